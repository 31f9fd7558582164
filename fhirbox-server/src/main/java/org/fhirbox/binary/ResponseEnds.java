package org.fhirbox.binary;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.client.Response;

/** How {@link SafeFetcher} ends the exchange of a response whose content it does not read to the end. */
final class ResponseEnds {
  private ResponseEnds() {}

  /** Why a response fhirbox no longer reads was aborted; it is never what a fetch fails with. */
  private static final class GivenUp extends IOException {
    GivenUp() {
      super("the response was given up on");
    }
  }

  /**
   * Ends {@code response}'s exchange, whose content is not read: aborted, so the connection closes
   * now. Closing the listener's stream alone leaves the exchange running, its connection open,
   * until the upstream ends the content or the read timeout runs out; and an exchange whose
   * listener is closed and that then fails on the upstream's close made Jetty's client (12.1)
   * hand a network buffer to two owners now and then, garbling the content of a later fetch.
   */
  static void discard(Response response, InputStreamResponseListener listener) {
    response.abort(new GivenUp());
    try {
      listener.getInputStream().close();
    } catch (IOException ignored) {
      // the response is being discarded anyway
    }
  }

  /**
   * {@code body}, whose close also ends {@code response}'s exchange (see {@link #discard}): a
   * body closed before its end (the content over the limit, the Binary refused) closes the
   * connection at once. Once the content has ended, the abort does nothing.
   */
  static InputStream endingOnClose(InputStream body, Response response) {
    return new FilterInputStream(body) {
      @Override
      public void close() throws IOException {
        response.abort(new GivenUp());
        super.close();
      }
    };
  }
}
