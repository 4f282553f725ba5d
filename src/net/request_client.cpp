// request_client.cpp -- see request_client.hpp.
#include "net/request_client.hpp"

#include <algorithm>

namespace arraymorph::net {

struct RequestClient::State {
  Call call;
  Done done;
  int attempts = 0;
  Clock::time_point deadline;
};

RequestClient::RequestClient(std::shared_ptr<HttpTransport> transport, ClientOptions options)
    : transport_(std::move(transport)),
      options_(std::move(options)),
      rng_(std::random_device{}()),
      timer_(std::make_unique<RetryTimer>()) {
  if (!options_.stats) options_.stats = std::make_shared<Stats>();
  if (!options_.admission) options_.admission = Admission::process();
}

RequestClient::~RequestClient() { timer_.reset(); }

double RequestClient::random_unit() {
  if (options_.rng) return options_.rng();
  std::lock_guard<std::mutex> lock(rng_mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

void RequestClient::start(Call call, Done done) {
  auto state = std::make_shared<State>();
  state->call = std::move(call);
  state->done = std::move(done);
  attempt(state);
}

Completed RequestClient::run(Call call) {
  return wait_for<Completed>([&](Done done) { start(std::move(call), std::move(done)); });
}

void RequestClient::attempt(const std::shared_ptr<State>& state) {
  options_.admission->acquire([this, state] {
    if (state->attempts == 0) {
      // The call's clock starts when it first gets a slot (see the header: a batch's tail
      // waiting behind the batch's own head is not the call being slow).
      const double total = std::max(0.0, options_.retry.total_timeout_s);
      state->deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(total));
    }
    HttpRequest request = state->call.build();  // signed afresh: a new date per attempt
    request.deadline = state->deadline;
    ++state->attempts;
    options_.stats->op(state->call.op).requests.fetch_add(1, std::memory_order_relaxed);
    options_.stats->note_inflight(on_wire_.fetch_add(1, std::memory_order_relaxed) + 1);
    transport_->issue(std::move(request), [this, state](Outcome&& outcome) {
      on_wire_.fetch_sub(1, std::memory_order_relaxed);
      options_.admission->release();
      on_outcome(state, std::move(outcome));
    });
  });
}

void RequestClient::on_outcome(const std::shared_ptr<State>& state, Outcome&& outcome) {
  const RetryPolicy& p = options_.retry;
  Failure failure = classify(outcome, state->call.error_in_200_body);
  if (failure == Failure::kNone && state->call.verify) {
    const auto* r = std::get_if<HttpResponse>(&outcome);
    if (r && r->status >= 200 && r->status < 300) {
      std::string mismatch = state->call.verify(*r);
      if (!mismatch.empty()) {
        failure = Failure::kCorrupt;
        // What the caller sees if no re-fetch succeeds: never the corrupt bytes as data.
        outcome = TransportError{"checksum mismatch: " + mismatch, TransportFailure::kFatal};
      }
    }
  }
  bool deadline_passed = false;
  if (should_retry(failure, state->call.idempotent) && state->attempts < p.max_attempts) {
    const double delay = backoff_for_attempt(state->attempts, p.initial_backoff_s,
                                             p.max_backoff_s, p.jitter,
                                             [this] { return random_unit(); });
    const auto resend_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(delay));
    if (resend_at < state->deadline) {
      options_.stats->op(state->call.op).retries.fetch_add(1, std::memory_order_relaxed);
      // Keep the last outcome so a cancelled backoff still reports what went wrong.
      auto last = std::make_shared<Outcome>(std::move(outcome));
      timer_->schedule(delay, [this, state, last](bool cancelled) {
        if (cancelled) {
          state->done(Completed{std::move(*last), state->attempts, false});
        } else {
          attempt(state);
        }
      });
      return;
    }
    deadline_passed = true;
  }
  state->done(Completed{std::move(outcome), state->attempts, deadline_passed});
}

}  // namespace arraymorph::net
