package org.fhirbox.auth;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * When each key was last seen, for at most {@code max} keys, kept as in {@link FailureLimiter}: a
 * key is stored as its SHA-256 (callers send the keys, and a key may be kilobytes long) and the key
 * used longest ago goes when a new one comes (an access-ordered {@link LinkedHashMap}: each call is
 * O(1), never a scan of every key, whatever the number of keys callers make up).
 */
final class RecentKeys {
  private final LinkedHashMap<String, Long> times;

  RecentKeys(int max) {
    this.times = lru(max);
  }

  /**
   * A map of at most {@code max} entries that drops the one used longest ago when a new one comes
   * (access-ordered: a get counts as a use). Not synchronised: callers lock it.
   */
  static <V> LinkedHashMap<String, V> lru(int max) {
    return new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        return size() > max;
      }
    };
  }

  /** The time {@code key} was last {@link #put}, or -1 when it was not (or has been evicted). */
  long get(String key) {
    String k = FailureLimiter.digest(key);
    synchronized (times) {
      Long t = times.get(k);
      return t == null ? -1 : t;
    }
  }

  /** Records {@code key} at {@code now}, evicting the key used longest ago when full. */
  void put(String key, long now) {
    String k = FailureLimiter.digest(key);
    synchronized (times) {
      times.put(k, now);
    }
  }

  /**
   * True, recording {@code now}, when {@code key} was not recorded within the last
   * {@code windowMillis}; false, recording nothing, when it was.
   */
  boolean firstWithin(String key, long now, long windowMillis) {
    String k = FailureLimiter.digest(key);
    synchronized (times) {
      Long t = times.get(k);
      if (t != null && now - t < windowMillis) {
        return false;
      }
      times.put(k, now);
      return true;
    }
  }

  /** How many keys are kept. */
  int size() {
    synchronized (times) {
      return times.size();
    }
  }
}
