// Replays test/vectors/cms-{nscc,rccc,entropy}.json (generated from lib/cms) through the
// C++ CMS and reports every divergence. Exit code 0 = all traces agree within the files'
// stated tolerance.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cms/cms.h"
#include "common/check.h"
#include "common/json.h"

using namespace softuet::cms;
namespace json = nlf::json;

namespace {

struct Tol {
  double rel = 1e-9;
  double abs = 1e-6;
};

Tol tolerance(const json::Value& doc) {
  Tol t;
  t.rel = doc["tolerance"]["relative"].as_double();
  t.abs = doc["tolerance"]["absolute"].as_double();
  return t;
}

bool near(double got, double want, const Tol& t) { return std::fabs(got - want) <= t.abs + t.rel * std::fabs(want); }

// Reports at most a few mismatches per trace so a divergence stays readable.
struct Reporter {
  std::string trace;
  int shown = 0;
  void num(size_t step, const char* what, double got, double want, const Tol& t) {
    if (CHECK(near(got, want, t))) return;
    if (shown++ < 8) std::fprintf(stderr, "  %s step %zu: %s = %.17g, expected %.17g\n", trace.c_str(), step, what, got, want);
  }
  void str(size_t step, const char* what, const std::string& got, const std::string& want) {
    if (CHECK(got == want)) return;
    if (shown++ < 8) std::fprintf(stderr, "  %s step %zu: %s = %s, expected %s\n", trace.c_str(), step, what, got.c_str(), want.c_str());
  }
  void flag(size_t step, const char* what, bool got, bool want) { str(step, what, got ? "true" : "false", want ? "true" : "false"); }
};

json::Value load(const char* name) { return json::parse_file(std::string(NLF_SOURCE_DIR) + "/test/vectors/" + name); }

double opt(const json::Value& v, const char* key, double dflt) { return v.has(key) ? v[key].as_double() : dflt; }

}  // namespace

TEST_CASE(nscc_traces) {
  const json::Value doc = load("cms-nscc.json");
  const Tol tol = tolerance(doc);
  REQUIRE(doc["traces"].size() > 0);
  for (const auto& tr : doc["traces"].items()) {
    Reporter rep{tr["name"].str()};
    const auto& c = tr["config"];
    NsccConfig cfg;
    cfg.link_rate_gbps = c["link_rate_gbps"].as_double();
    cfg.base_rtt_ns = c["base_rtt_ns"].as_double();
    cfg.mtu = c["mtu"].as_double();
    cfg.target_qdelay_ns = c["target_qdelay_ns"].as_double();
    cfg.trimming = c["trimming"].as_bool();
    cfg.rccc_active = c["rccc_active"].as_bool();
    REQUIRE_EQ(Nscc::validate(cfg), 0);
    Nscc cc(cfg);
    const auto& p = tr["params"];
    const NsccParams& q = cc.params();
    rep.num(0, "bdp", q.bdp, p["bdp"].as_double(), tol);
    rep.num(0, "target_qdelay_ns", q.target_qdelay_ns, p["target_qdelay_ns"].as_double(), tol);
    rep.num(0, "alpha", q.alpha, p["alpha"].as_double(), tol);
    rep.num(0, "fi", q.fi, p["fi"].as_double(), tol);
    rep.num(0, "eta", q.eta, p["eta"].as_double(), tol);
    rep.num(0, "fi_scale", q.fi_scale, p["fi_scale"].as_double(), tol);
    rep.num(0, "qa_threshold_ns", q.qa_threshold_ns, p["qa_threshold_ns"].as_double(), tol);
    rep.num(0, "adjust_bytes", q.adjust_bytes, p["adjust_bytes"].as_double(), tol);
    rep.num(0, "maxwnd", q.maxwnd, p["maxwnd"].as_double(), tol);
    rep.num(0, "min_cwnd", q.min_cwnd, p["min_cwnd"].as_double(), tol);
    size_t i = 0;
    for (const auto& e : tr["events"].items()) {
      ++i;
      const std::string kind = e["kind"].str();
      const double now = e["now_ns"].as_double();
      const double in_flight = opt(e, "in_flight", 0);
      NsccAction a;
      if (kind == "ack") {
        a = cc.onAck(e["bytes"].as_double(), e["rtt_ns"].as_double(), e["ecn"].as_bool(), now, in_flight);
      } else if (kind == "nack") {
        a = cc.onNack(e["bytes"].as_double(), now, e.has("last_hop") && e["last_hop"].as_bool(), in_flight);
      } else if (kind == "timeout") {
        a = cc.onTimeout(e["bytes"].as_double(), now, in_flight);
      } else if (kind == "tick") {
        a = cc.onTick(now);
      } else {
        rep.str(i, "kind", kind, "ack|nack|timeout|tick");
        continue;
      }
      const auto& x = e["expect"];
      rep.str(i, "action", to_string(a), x["action"].str());
      rep.num(i, "cwnd", cc.cwnd(), x["cwnd"].as_double(), tol);
      rep.num(i, "base_rtt_ns", cc.baseRtt(), x["base_rtt_ns"].as_double(), tol);
      rep.num(i, "avg_delay_ns", cc.avgDelay(), x["avg_delay_ns"].as_double(), tol);
      rep.flag(i, "can_send_mtu", cc.canSend(in_flight, cfg.mtu), x["can_send_mtu"].as_bool());
    }
    std::printf("nscc %-20s %zu events, %d mismatches\n", rep.trace.c_str(), i, rep.shown);
  }
}

TEST_CASE(rccc_traces) {
  const json::Value doc = load("cms-rccc.json");
  const Tol tol = tolerance(doc);
  REQUIRE(doc["traces"].size() > 0);
  for (const auto& tr : doc["traces"].items()) {
    Reporter rep{tr["name"].str()};
    const auto& c = tr["config"];
    const double mtu = c["mtu"].as_double();
    RcccSender s(mtu, c["speculative_bytes"].as_double());
    RcccReceiver r(c["link_rate_gbps"].as_double(), mtu, c["pull_quantum"].as_double());
    size_t i = 0;
    std::vector<Grant> grants;
    for (const auto& st : tr["steps"].items()) {
      ++i;
      const std::string side = st["side"].str();
      const std::string op = st["op"].str();
      const auto& x = st["expect"];
      if (side == "sender") {
        const double bytes = st["bytes"].as_double();
        if (op == "enqueue") {
          s.enqueue(bytes);
        } else if (op == "grant") {
          s.onGrant(bytes);
        } else if (op == "idle") {
          s.idle();
        } else {
          const int spec = s.onSend(bytes);
          rep.flag(i, "send accepted", spec >= 0, true);
          if (x.has("speculative")) rep.flag(i, "speculative", spec == 1, x["speculative"].as_bool());
        }
        rep.num(i, "credit", s.credit(), x["credit"].as_double(), tol);
        rep.num(i, "backlog", s.backlog(), x["backlog"].as_double(), tol);
        rep.flag(i, "speculating", s.speculating(), x["speculating"].as_bool());
        rep.num(i, "spec_remaining", s.specRemaining(), x["spec_remaining"].as_double(), tol);
        rep.num(i, "credit_target", s.creditTarget(), x["credit_target"].as_double(), tol);
        rep.flag(i, "can_send_mtu", s.canSend(mtu), x["can_send_mtu"].as_bool());
        continue;
      }
      const double now = st["now_ns"].as_double();
      if (op == "request") {
        const auto sender = static_cast<uint32_t>(st["sender"].as_u64());
        r.onRequest(sender, st["credit_target"].as_double(), now);
        rep.num(i, "demand", r.demand(sender), x["demand"].as_double(), tol);
      } else if (op == "data") {
        r.onData(static_cast<uint32_t>(st["sender"].as_u64()), st["bytes"].as_double(), st["speculative"].as_bool(), now);
      } else if (op == "poll") {
        grants.clear();
        r.poll(now, grants);
        const auto& want = x["grants"];
        rep.num(i, "grant count", static_cast<double>(grants.size()), static_cast<double>(want.size()), Tol{0, 0});
        for (size_t g = 0; g < grants.size() && g < want.size(); g++) {
          rep.num(i, "grant sender", grants[g].sender, want[g][0].as_double(), Tol{0, 0});
          rep.num(i, "grant bytes", grants[g].bytes, want[g][1].as_double(), tol);
        }
      }
      rep.num(i, "next_wake_ns", r.nextWakeNs(), x["next_wake_ns"].as_double(), tol);
    }
    std::printf("rccc %-32s %zu steps, %d mismatches\n", rep.trace.c_str(), i, rep.shown);
  }
}

TEST_CASE(entropy_traces) {
  const json::Value doc = load("cms-entropy.json");
  REQUIRE(doc["traces"].size() > 0);
  for (const auto& tr : doc["traces"].items()) {
    Reporter rep{tr["name"].str()};
    const auto& c = tr["config"];
    EntropyConfig cfg;
    const std::string mode = c["mode"].str();
    cfg.mode = mode == "ecmp" ? EntropyMode::Ecmp
               : mode == "oblivious" ? EntropyMode::Oblivious
               : mode == "bitmap" ? EntropyMode::Bitmap
                                  : EntropyMode::Reps;
    cfg.seed = static_cast<uint32_t>(c["seed"].as_u64());
    cfg.paths = static_cast<uint32_t>(c["paths"].as_u64());
    cfg.max_penalty = static_cast<uint32_t>(c["max_penalty"].as_u64());
    cfg.reps_buffer_size = static_cast<uint32_t>(c["reps_buffer_size"].as_u64());
    cfg.freeze_packets = static_cast<uint32_t>(c["freeze_packets"].as_u64());
    cfg.explore_count = static_cast<uint32_t>(c["explore_count"].as_u64());
    REQUIRE_EQ(EntropySelector::validate(cfg), 0);
    EntropySelector sel(cfg);
    size_t i = 0;
    for (const auto& st : tr["steps"].items()) {
      ++i;
      const std::string op = st["op"].str();
      if (op == "next") {
        const uint16_t ev = sel.next();
        rep.num(i, "ev", ev, st["expect"]["ev"].as_double(), Tol{0, 0});
        continue;
      }
      const auto ev = static_cast<uint16_t>(st["ev"].as_u64());
      if (op == "ack") sel.onAck(ev, st["ecn"].as_bool());
      else if (op == "nack") sel.onNack(ev);
      else if (op == "timeout") sel.onTimeout(ev);
      else rep.str(i, "op", op, "next|ack|nack|timeout");
    }
    const auto& f = tr["final"];
    if (f.has("penalties")) {
      for (size_t k = 0; k < f["penalties"].size(); k++)
        rep.num(i, "penalty", sel.penalty(static_cast<uint32_t>(k)), f["penalties"][k].as_double(), Tol{0, 0});
    }
    if (f.has("cached")) rep.num(i, "cached", sel.cached(), f["cached"].as_double(), Tol{0, 0});
    if (f.has("frozen")) rep.flag(i, "frozen", sel.frozen(), f["frozen"].as_bool());
    std::printf("entropy %-28s %zu steps, %d mismatches\n", rep.trace.c_str(), i, rep.shown);
  }
}

TEST_CASE(bad_config_is_rejected) {
  NsccConfig c;
  c.base_rtt_ns = 0;
  CHECK_EQ(Nscc::validate(c), -EINVAL);
  c.base_rtt_ns = 12000;
  c.link_rate_gbps = std::nan("");
  CHECK_EQ(Nscc::validate(c), -EINVAL);
  EntropyConfig e;
  e.paths = 6;
  CHECK_EQ(EntropySelector::validate(e), -EINVAL);
  e.paths = 8;
  e.reps_buffer_size = 0;
  CHECK_EQ(EntropySelector::validate(e), -EINVAL);
}

TEST_CASE(rccc_send_without_credit_is_refused) {
  RcccSender s(4096, 4096);
  s.enqueue(8192);
  CHECK_EQ(s.onSend(4096), 1);
  CHECK(!s.canSend(4096));
  CHECK_EQ(s.onSend(4096), -EAGAIN);
  CHECK_EQ(s.backlog(), 4096.0);
  s.onGrant(4096);
  CHECK_EQ(s.onSend(4096), 0);
  CHECK_EQ(s.credit(), 0.0);
}

TEST_CASE(bad_events_change_nothing) {
  NsccConfig c;
  Nscc cc(c);
  const double before = cc.cwnd();
  CHECK(cc.onAck(-1, 1000, false, 10) == NsccAction::Rejected);
  CHECK(cc.onAck(4096, std::nan(""), false, 10) == NsccAction::Rejected);
  CHECK(cc.onNack(4096, std::nan("")) == NsccAction::Rejected);
  CHECK(cc.onTimeout(-4096, 10) == NsccAction::Rejected);
  CHECK(cc.onTick(INFINITY) == NsccAction::Rejected);
  CHECK_EQ(cc.cwnd(), before);
  CHECK_EQ(cc.avgDelay(), 0.0);
  RcccSender s(4096);
  CHECK_EQ(s.enqueue(-1), -EINVAL);
  CHECK_EQ(s.onGrant(std::nan("")), -EINVAL);
  CHECK_EQ(s.backlog(), 0.0);
  CHECK(s.speculating());
  CHECK_EQ(RcccReceiver::validate(0, 4096), -EINVAL);
  CHECK_EQ(RcccReceiver::validate(100, 4096, 0, 1.5), -EINVAL);
  CHECK_EQ(RcccReceiver::validate(100, 4096), 0);
  RcccReceiver r(100, 4096);
  CHECK_EQ(r.onRequest(1, -5, 0), -EINVAL);
  CHECK_EQ(r.onData(1, std::nan(""), true, 0), -EINVAL);
  CHECK(r.nextWakeNs() < 0);
}

NLF_TEST_MAIN()
