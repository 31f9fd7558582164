package org.fhirbox.audit;

/**
 * Who made an admin change: the admin client, and the person signed in to it when the access
 * token names one.
 *
 * @param address the caller's address (as for every audited request)
 * @param userId the signed-in person's user id, or null when the client acted for itself
 * @param fhirUser that person's FHIR resource, or null
 * @param email that person's email, or null
 */
public record AdminActor(String address, String clientId, String userId, String fhirUser, String email) {}
