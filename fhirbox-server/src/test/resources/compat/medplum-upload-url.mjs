// Medplum's presigned upload flow through its own JS client (@medplum/core 4.x), as its server's
// test of Binary/$presigned-url does it: a Binary without content, an upload URL for it, a PUT.
// Input (environment): FHIRBOX_BASE_URL, FHIRBOX_CLIENT_ID, FHIRBOX_CLIENT_SECRET.
// Output: one JSON line on stdout; MedplumUploadUrlTest checks it. A failed step exits non-zero.
import { MedplumClient } from '@medplum/core';

const medplum = new MedplumClient({ baseUrl: process.env.FHIRBOX_BASE_URL, fetch });
await medplum.startClientLogin(process.env.FHIRBOX_CLIENT_ID, process.env.FHIRBOX_CLIENT_SECRET);
const out = {};

const binary = await medplum.createResource({ resourceType: 'Binary', contentType: 'text/plain' });
const params = await medplum.get(medplum.fhirUrl('Binary', binary.id, '$presigned-url') + '?upload=true');
const url = params.parameter?.[0]?.valueUri;
out.firstParameter = params.parameter?.[0]?.name;

// The presigned URL is unauthenticated: a plain fetch, no Authorization header.
const put = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: 'foo bar baz quux' });
out.putStatus = put.status;
const again = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: 'other' });
out.secondPutStatus = again.status;

const blob = await medplum.download(`Binary/${binary.id}`);
out.downloaded = await blob.text();
out.readUrl = (await medplum.readResource('Binary', binary.id)).url;

process.stdout.write(JSON.stringify(out) + '\n');
