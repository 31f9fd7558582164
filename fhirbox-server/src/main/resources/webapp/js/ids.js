// The one rule for the FHIR ids the app puts in a URL path, wherever it read them (an address, a
// header, a resource, a reference).

/**
 * Whether `id` is a FHIR id the app may name in a path: the id grammar (R4 datatypes.html#id,
 * `[A-Za-z0-9\-\.]{1,64}`) and neither "." nor "..", which are ids by that grammar but path
 * segments a URL resolves away (RFC 3986 §5.2.4): a request for `Binary/..` would go to the FHIR
 * base, and one for `Binary/{id}/_history/..` to the Binary itself. The server refuses them in a
 * path; the app names nothing by them.
 */
export function isId(id) {
  return typeof id === 'string' && /^[A-Za-z0-9.-]{1,64}$/.test(id) && id !== '.' && id !== '..';
}
