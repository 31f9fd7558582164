package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Following a search's next links ends, with an error, where a server's link goes round. */
class SearchLoopTest {
  @RegisterExtension
  final PeerServer peer = PeerServer.started();

  @Test
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // without the check, it goes round for ever
  void aNextLinkBackToAPageAlreadyReadStopsTheSearchWithAnError() {
    // every page names the same next page: a client that follows it blindly never ends
    peer.on("/fhir/R4/Patient", ex -> PeerServer.send(ex, 200, "application/fhir+json",
        "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[{\"relation\":\"next\",\"url\":\""
            + peer.root() + "fhir/R4/Patient?name=ada&_after=p2\"}],\"entry\":[{\"resource\":{\"resourceType\":"
            + "\"Patient\",\"id\":\"p\"},\"search\":{\"mode\":\"match\"}}]}"));
    FhirboxClient client = peer.client(1);
    List<Patient> read = new ArrayList<>();

    assertThatThrownBy(() -> client.search(Patient.class, "name=ada").forEach(read::add))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("next link leads back to a page already read");
    // the first page and the one it links to, then no more requests
    assertThat(read).hasSize(2);
    assertThat(peer.seen("/fhir/R4/Patient")).hasSize(2);
  }
}
