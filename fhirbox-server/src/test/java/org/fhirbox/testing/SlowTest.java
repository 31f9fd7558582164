package org.fhirbox.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a test class or method of the slow tier: it needs a browser, Node.js, an S3 server,
 * PostgreSQL, several server nodes, another JVM or files of gigabytes. {@code ./mvnw test} leaves
 * it out; {@code ./mvnw verify} runs it (failsafe, tag {@value #TAG}).
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag(SlowTest.TAG)
public @interface SlowTest {
  String TAG = "slow";
}
