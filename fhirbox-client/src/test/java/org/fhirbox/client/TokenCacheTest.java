package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A token endpoint that fails while the cached token still works. */
class TokenCacheTest {
  private final TokenRefreshTest.ManualClock clock = new TokenRefreshTest.ManualClock();
  private final AtomicInteger fetches = new AtomicInteger();
  private volatile boolean endpointDown;

  private final TokenCache cache = new TokenCache(() -> {
    fetches.incrementAndGet();
    if (endpointDown) {
      throw FhirboxException.client("POST /oauth2/token failed: connection refused", null);
    }
    return new TokenCache.Fetched("token-" + fetches.get(), Duration.ofHours(1));
  }, clock, "identity");

  @Test
  void aFailedEarlyRefreshIsNotTriedAgainByEveryCallWhileTheOldTokenWorks() {
    assertThat(cache.token()).isEqualTo("token-1");
    endpointDown = true;
    clock.advance(Duration.ofMinutes(59).plusSeconds(10)); // due for refresh, 50 s before expiry

    for (int call = 0; call < 20; call++) {
      assertThat(cache.token()).isEqualTo("token-1");
    }
    assertThat(fetches).as("fetches: the first and one failed refresh, not one per call").hasValue(2);

    clock.advance(Duration.ofSeconds(10)); // a while later the refresh is tried again
    assertThat(cache.token()).isEqualTo("token-1");
    assertThat(fetches).hasValue(3);

    endpointDown = false;
    clock.advance(Duration.ofSeconds(10));
    assertThat(cache.token()).isEqualTo("token-4");
  }

  @Test
  void anExpiredTokenIsNeverHandedOutWhenTheRefreshFails() {
    cache.token();
    endpointDown = true;
    clock.advance(Duration.ofMinutes(59).plusSeconds(58)); // 2 s left: refresh fails, old token still good
    assertThat(cache.token()).isEqualTo("token-1");

    clock.advance(Duration.ofSeconds(3)); // expired now

    assertThatThrownBy(cache::token).isInstanceOf(FhirboxException.class).hasMessageContaining("connection refused");
  }
}
