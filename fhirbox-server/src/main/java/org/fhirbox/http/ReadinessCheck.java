package org.fhirbox.http;

import java.util.function.BooleanSupplier;

/** One dependency that {@code GET /readyz} reports, e.g. {@code database} or {@code blobStore}. */
public record ReadinessCheck(String name, BooleanSupplier up) {}
