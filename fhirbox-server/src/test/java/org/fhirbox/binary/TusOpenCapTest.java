package org.fhirbox.binary;

import java.util.Map;
import org.fhirbox.testing.TestServer;

/** {@link TusOpenCapContract} on the embedded H2. */
class TusOpenCapTest extends TusOpenCapContract {
  @Override
  TestServer start(Map<String, String> settings) throws Exception {
    return TestServer.start(settings);
  }
}
