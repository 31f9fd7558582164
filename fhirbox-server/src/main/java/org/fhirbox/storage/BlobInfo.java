package org.fhirbox.storage;

/** What {@link BlobStore#put} learned while storing: size and digests (lowercase hex). */
public record BlobInfo(BlobKey key, long size, String sha256Hex, String sha1Hex) {}
