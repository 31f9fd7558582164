// Drives fhirbox through Medplum's own JS client (@medplum/core 4.x), as a Medplum user would.
// Input (environment): FHIRBOX_BASE_URL, FHIRBOX_CLIENT_ID, FHIRBOX_CLIENT_SECRET, PAYLOAD_B64.
// Output: one JSON line on stdout with what was observed; MedplumClientTest checks it.
// Any failed step throws, which prints the error on stderr and exits non-zero.
import { createHash } from 'node:crypto';
import { MedplumClient, normalizeErrorString } from '@medplum/core';

const baseUrl = required('FHIRBOX_BASE_URL');
const clientId = required('FHIRBOX_CLIENT_ID');
const clientSecret = required('FHIRBOX_CLIENT_SECRET');
const payload = new Uint8Array(Buffer.from(required('PAYLOAD_B64'), 'base64'));

function required(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error('missing environment variable ' + name);
  }
  return v;
}

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

async function blobSha256(blob) {
  return sha256(new Uint8Array(await blob.arrayBuffer()));
}

/** Fetches a signed URL with no credentials at all, as an <img> tag would. */
async function fetchUnauthenticated(url) {
  const res = await fetch(url);
  if (res.status !== 200) {
    throw new Error('GET ' + url.replace(/Signature=[^&]*/, 'Signature=...') + ' returned ' + res.status);
  }
  return { sha256: sha256(new Uint8Array(await res.arrayBuffer())), contentType: res.headers.get('content-type') };
}

const medplum = new MedplumClient({ baseUrl, fetch });
const out = {};

await medplum.startClientLogin(clientId, clientSecret);
out.authenticated = medplum.isAuthenticated(0);

// Medplum 4's signature takes an options object; the positional form is deprecated.
const binary = await medplum.createBinary({ data: payload, filename: 'scan.png', contentType: 'image/png' });
out.binary = { id: binary.id, contentType: binary.contentType, url: binary.url, hasData: binary.data !== undefined };

const attachment = await medplum.createAttachment({ data: payload, filename: 'photo.png', contentType: 'image/png' });
out.attachment = attachment;

const created = await medplum.createResource({
  resourceType: 'Patient',
  name: [{ family: 'Compat', given: ['Medplum'] }],
  photo: [attachment],
});
out.patientId = created.id;
out.createdPhotoUrl = created.photo?.[0]?.url;

const read = await medplum.readResource('Patient', created.id);
const photo = read.photo?.[0] ?? {};
out.readPhoto = { url: photo.url, contentType: photo.contentType, title: photo.title, size: photo.size };
out.readPhotoFetch = await fetchUnauthenticated(photo.url);

const found = await medplum.searchResources('Patient', { _id: created.id });
out.search = { count: found.length, ids: found.map((p) => p.id), photoUrl: found[0]?.photo?.[0]?.url };

await medplum.updateResource({ ...read, active: true });
const history = await medplum.readHistory('Patient', created.id);
out.history = {
  type: history.type,
  versions: (history.entry ?? []).map((e) => e.resource?.meta?.versionId),
  photoUrls: (history.entry ?? []).map((e) => e.resource?.photo?.[0]?.url),
};

out.downloadByReference = await blobSha256(await medplum.download('Binary/' + binary.id));
out.downloadBySignedUrl = await blobSha256(await medplum.download(binary.url));

const media = await medplum.createMedia({ data: payload, filename: 'clip.png', contentType: 'image/png' });
const mediaRead = await medplum.readResource('Media', media.id);
out.media = {
  id: media.id,
  status: mediaRead.status,
  contentUrl: mediaRead.content?.url,
  contentType: mediaRead.content?.contentType,
  title: mediaRead.content?.title,
};
out.mediaFetch = await fetchUnauthenticated(mediaRead.content.url);
out.mediaBinarySecurityContext = (await medplum.readResource('Binary', binaryIdOf(mediaRead.content.url))).securityContext;

// Medplum's conditional create sends If-None-Exist: the second call finds the first's Patient
const once = { resourceType: 'Patient', identifier: [{ system: 'urn:fhirbox:compat', value: 'once-' + Date.now() }] };
const query = 'identifier=urn:fhirbox:compat|' + once.identifier[0].value;
const first = await medplum.createResourceIfNoneExist(once, query);
const second = await medplum.createResourceIfNoneExist(once, query);
out.conditional = { first: first.id, second: second.id, found: (await medplum.searchResources('Patient', query)).length };

// Medplum's upsertResource is a conditional update (PUT Patient?identifier=...): the first call
// creates the Patient, the second updates that one
const upsertValue = 'upsert-' + Date.now();
const upsertQuery = 'identifier=urn:fhirbox:compat|' + upsertValue;
const upserted = (family) => ({ resourceType: 'Patient', identifier: [{ system: 'urn:fhirbox:compat', value: upsertValue }],
  name: [{ family }] });
const up1 = await medplum.upsertResource(upserted('One'), upsertQuery);
const up2 = await medplum.upsertResource(upserted('Two'), upsertQuery);
out.upsert = { first: up1.id, second: up2.id, version: up2.meta?.versionId, family: up2.name?.[0]?.family,
  found: (await medplum.searchResources('Patient', upsertQuery)).length };

// Medplum's patchResource sends a JSON Patch; its test of meta.versionId guards against a lost update
const patched = await medplum.patchResource('Patient', up2.id, [
  { op: 'test', path: '/meta/versionId', value: up2.meta.versionId },
  { op: 'replace', path: '/name/0/family', value: 'Three' },
]);
out.patch = { version: patched.meta?.versionId, family: patched.name?.[0]?.family };

// A storage URL without its signature is refused for good, whatever token comes with it: a 401
// would have the client fetch a new token and send the request again, without end. The client
// below gives up after a few tokens; the error it shows is the server's diagnostic.
let tokenRequests = 0;
const counted = new MedplumClient({ baseUrl, fetch: (url, init) => {
  if (String(url).endsWith('/oauth2/token') && ++tokenRequests > 3) {
    return Promise.reject(Object.assign(new Error('a token was asked for again and again'), { name: 'AbortError' }));
  }
  return fetch(url, init);
} });
await counted.startClientLogin(clientId, clientSecret);
out.unsigned = await counted.get(binary.url.slice(0, binary.url.indexOf('?')))
  .then(() => ({ error: null }), (e) => ({ error: normalizeErrorString(e) }));
out.unsigned.tokenRequests = tokenRequests;

// Medplum's own APIs beside FHIR's that this server does not have answer a diagnostic that says
// what to use instead: GraphQL (which requestSchema uses too) and the email and password sign-in
out.graphql = await medplum.graphql('{ PatientList { id } }').then(() => null, normalizeErrorString);
out.schema = await medplum.requestSchema('Patient').then(() => null, normalizeErrorString);
out.passwordLogin = await new MedplumClient({ baseUrl, fetch })
  // its own code challenge: the client would otherwise keep a new one in sessionStorage, which Node lacks
  .startLogin({ email: 'someone@example.org', password: 'not-a-password', codeChallengeMethod: 'S256',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' }).then(() => null, normalizeErrorString);

// signOut posts to /oauth2/logout with the access token (a person's sign-in would end there; this
// client's own token has none), and forgets the client's tokens once that succeeds
out.signOut = await medplum.signOut().then(() => ({ cleared: !medplum.getAccessToken() }), normalizeErrorString);

function binaryIdOf(signedUrl) {
  const m = new URL(signedUrl).pathname.match(/\/storage\/([^/]+)\//);
  if (!m) {
    throw new Error('not a storage URL: ' + signedUrl);
  }
  return m[1];
}

process.stdout.write(JSON.stringify(out) + '\n');
