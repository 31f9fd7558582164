package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.eclipse.jetty.util.thread.Scheduler;
import org.junit.jupiter.api.Test;

/**
 * The judgement of a response's write waits, with timers run by hand at the moments a busy server
 * can run them: a timer whose cancel came too late, as it had already started, must judge nothing,
 * and a slow client's connection is closed once. The client here must take 1,000 bytes/s over a
 * 1 s window of waits.
 */
class WriteWaitsTest {
  static final long SECOND = 1_000_000_000L;

  /** A timer the test fires; cancelled, it is no longer live, but as one already started it may still be fired. */
  static final class Timer implements Scheduler.Task {
    final Runnable task;
    boolean cancelled;
    boolean ran;

    Timer(Runnable task) {
      this.task = task;
    }

    void fire() {
      ran = true;
      task.run();
    }

    @Override
    public boolean cancel() {
      cancelled = true;
      return false;
    }
  }

  final AtomicLong clock = new AtomicLong(SECOND);
  final AtomicLong flushed = new AtomicLong();
  final List<Timer> timers = new ArrayList<>();
  final List<MinimumWriteRate.SlowResponse> closes = new ArrayList<>();

  WriteWaits waits(Consumer<MinimumWriteRate.SlowResponse> close) {
    return new WriteWaits(1000, SECOND, flushed::get, clock::get, (task, delay) -> {
      Timer t = new Timer(task);
      timers.add(t);
      return t;
    }, close);
  }

  long live() {
    return timers.stream().filter(t -> !t.cancelled && !t.ran).count();
  }

  @Test
  void aTimerThatFiredForAnEarlierWriteDoesNotJudgeTheNext() {
    WriteWaits waits = waits(closes::add);
    waits.started();
    Timer first = timers.get(0);
    clock.addAndGet(SECOND);
    flushed.addAndGet(1000);
    waits.done(); // a window of waits, paid for in full: judged, and passed

    waits.started();
    clock.addAndGet(SECOND / 100); // the next write has waited 10 ms, and the socket took nothing yet
    first.fire(); // the first write's timer, already running when its cancel came

    assertThat(closes).as("the second write's 10 ms are not a window to judge").isEmpty();
    assertThat(live()).as("only the second write's timer").isEqualTo(1);
  }

  @Test
  void aTimerThatFiresWhileItsWriteIsPendingJudgesItAndIsTheOnlyOneLive() {
    WriteWaits waits = waits(closes::add);
    waits.started();
    clock.addAndGet(SECOND);
    flushed.addAndGet(1000);
    timers.get(0).fire();

    assertThat(closes).isEmpty();
    assertThat(timers).as("judged again a window later").hasSize(2);
    clock.addAndGet(SECOND);
    timers.get(1).fire();

    assertThat(closes).as("a window with nothing taken, and no credit").hasSize(1);
  }

  @Test
  void aSlowClientsConnectionIsClosedOnceThoughTheCloseFailsThePendingWriteAtOnce() {
    List<WriteWaits> self = new ArrayList<>();
    WriteWaits waits = waits(slow -> {
      closes.add(slow);
      self.get(0).done(); // as Jetty fails the pending write on the closing thread
    });
    self.add(waits);
    waits.started();
    clock.addAndGet(SECOND);
    flushed.addAndGet(10);
    timers.get(0).fire();

    assertThat(closes).hasSize(1);
    assertThat(closes.get(0)).hasMessageContaining("at 10 bytes/s");
    assertThat(live()).isZero();
  }
}
