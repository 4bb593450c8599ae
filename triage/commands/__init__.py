"""One module per sub-command. Each module defines ``add_parser(subparsers)``, which adds its
parser and sets ``func`` (taking the parsed arguments, returning the exit code). Modules are
imported only when the command line is built, and heavy imports stay inside ``func``."""

# The order here is the order in `dystonia-triage --help`.
MODULES = ["interview", "assess", "explain", "clinics", "rules", "cases", "check", "fhir", "serve", "schema"]
