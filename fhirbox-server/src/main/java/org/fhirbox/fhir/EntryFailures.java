package org.fhirbox.fhir;

import ca.uhn.fhir.i18n.Msg;
import org.fhirbox.core.FhirException;

/**
 * What a Bundle's failure handlers make of a throwable: a RuntimeException as it is, and the two
 * Errors one entry's content can cause without harming the JVM as a failure of that entry alone.
 * HAPI throws a bare {@link Error} (HAPI-1828) when its JSON writer refuses a resource nested
 * deeper than Jackson writes (1,000 levels: an XML resource of 600 nested extensions is 1,200 as
 * JSON); a {@link StackOverflowError} unwinds only the recursion over the entry's content. Any other
 * Error (out of memory, a linkage error) says the JVM itself is in trouble and is thrown on.
 */
final class EntryFailures {
  private static final String TOO_DEEP_TO_ENCODE = Msg.code(1828);

  private EntryFailures() {}

  /** {@code t} as the failure of one entry (or one transaction); throws {@code t} when it is another Error. */
  static RuntimeException of(Throwable t) {
    if (t instanceof RuntimeException e) {
      return e;
    }
    if (t.getClass() == Error.class && t.getMessage() != null && t.getMessage().startsWith(TOO_DEEP_TO_ENCODE)) {
      return FhirException.badRequest("the resource is nested too deeply to be stored: as JSON"
          + " it would be deeper than 1,000 levels");
    }
    if (t instanceof StackOverflowError) {
      return new IllegalStateException("the entry's content is nested too deeply to be processed", t);
    }
    if (t instanceof Error e) {
      throw e;
    }
    throw new IllegalStateException(t);
  }
}
