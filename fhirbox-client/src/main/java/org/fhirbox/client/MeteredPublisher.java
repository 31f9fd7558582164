package org.fhirbox.client;

import java.net.http.HttpRequest.BodyPublisher;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.Flow;

/**
 * Wraps a body publisher to count bytes (for progress) and compute their SHA-1 (the FHIR
 * Attachment.hash) as they are handed to the HTTP client, so nothing is read twice. A new
 * subscription (the request sent again) starts the count and the digest afresh.
 */
final class MeteredPublisher implements BodyPublisher {
  private final BodyPublisher delegate;
  private final ProgressListener listener;
  private final long total;
  private volatile long done;
  private volatile MessageDigest sha1;
  private volatile boolean complete;

  MeteredPublisher(BodyPublisher delegate, ProgressListener listener) {
    this.delegate = delegate;
    this.listener = listener;
    this.total = delegate.contentLength();
    // the HTTP client sends a body of length 0 without subscribing to it at all
    this.sha1 = newSha1();
  }

  @Override
  public long contentLength() {
    return total;
  }

  long bytes() {
    return done;
  }

  boolean complete() {
    return complete;
  }

  /** The SHA-1 of everything sent in the last subscription (of no bytes when there was none). */
  byte[] sha1() {
    return sha1.digest();
  }

  @Override
  public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
    done = 0;
    complete = false;
    sha1 = newSha1();
    delegate.subscribe(new Flow.Subscriber<ByteBuffer>() {
      @Override
      public void onSubscribe(Flow.Subscription subscription) {
        subscriber.onSubscribe(subscription);
      }

      @Override
      public void onNext(ByteBuffer item) {
        // Reactive Streams §1.3: onNext calls are serial, so the digest needs no lock.
        sha1.update(item.duplicate());
        done += item.remaining();
        listener.onProgress(done, total);
        subscriber.onNext(item);
      }

      @Override
      public void onError(Throwable throwable) {
        subscriber.onError(throwable);
      }

      @Override
      public void onComplete() {
        complete = true;
        if (total < 0 || done == 0) {
          listener.onProgress(done, done); // the size is known now; an empty body gets its one call too
        }
        subscriber.onComplete();
      }
    });
  }

  private static MessageDigest newSha1() {
    try {
      return MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-1", e);
    }
  }
}
