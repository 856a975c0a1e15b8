// Conformance of the C++ wire codecs (native/softuet/wire) with the shared vectors in
// test/vectors: for every header vector, decode(hex) must yield exactly `fields` (no key
// more, no key less) and encode(fields) must yield exactly `hex`; every malformed input
// must be rejected naming the same field and byte offset.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "common/check.h"
#include "common/json.h"
#include "wire/packet.h"
#include "wire/pds.h"
#include "wire/ses.h"

using namespace softuet::wire;
using nlf::json::Value;

namespace {

// NLF_VECTOR_DIR overrides the location (to run against a modified copy).
std::string vector_path(const char* file) {
  const char* dir = std::getenv("NLF_VECTOR_DIR");
  return std::string(dir ? dir : NLF_SOURCE_DIR "/test/vectors") + "/" + file;
}

// Field values as 64-bit patterns; signed fields are sign-extended, so -1 in a vector
// and int16_t(-1) from a decoder compare equal.
using Fields = std::map<std::string, uint64_t>;

uint64_t s64(int64_t v) { return uint64_t(v); }

Fields vector_fields(const Value& obj) {
  Fields f;
  for (const auto& [k, v] : obj.members()) {
    if (v.is_number() && !v.text().empty() && v.text()[0] == '-')
      f[k] = s64(v.as_i64());
    else
      f[k] = v.as_u64();
  }
  return f;
}

uint64_t get(const Fields& f, const char* k) {
  auto it = f.find(k);
  return it == f.end() ? 0 : it->second;
}

// ------------------------------------------------------------------- struct <-> fields

// One list of (vector key, member) per header serves both directions: FromFields reads
// every listed key (a key the vector lacks is 0), ToFields writes the keys whose presence
// condition holds for the decoded header. Keys derived from flags, and keys that share a
// member, are handled beside the lists (put_extra / take_extra).
struct ToFields {
  Fields& f;
  template <typename T>
  void operator()(const char* k, const T& m, bool present = true) {
    if (present) f[k] = std::is_signed_v<T> ? s64(int64_t(m)) : uint64_t(m);
  }
};

struct FromFields {
  const Fields& f;
  template <typename T>
  void operator()(const char* k, T& m, bool = true) {
    m = T(get(f, k));
  }
};

template <typename V>
void visit(PdsRequest& h, V&& v) {
  v("type", h.type);
  v("nh", h.nh);
  v("flags", h.flags);
  v("clear_psn_offset", h.clear_psn_offset);
  v("psn", h.psn);
  v("spdcid", h.spdcid);
  v("use_rsv_pdc", h.use_rsv_pdc, h.syn());
  v("psn_offset", h.psn_offset, h.syn());
  v("dpdcid", h.dpdcid, !h.syn());
  v("ccc_id", h.ccc_id, h.has_cc());
  v("credit_target", h.credit_target, h.has_cc());
}

template <typename V>
void visit(Ack& h, V&& v) {
  const bool plain = h.type == 7, ccx = h.type == 9, cc = !plain && !ccx;
  v("type", h.type);
  v("nh", h.nh);
  v("flags", h.flags);
  v("cack_psn", h.cack_psn);
  v("spdcid", h.spdcid);
  v("dpdcid", h.dpdcid);
  v("expected_psn", h.expected_psn, plain && h.epsn());
  v("cc_type", h.cc_type, !plain);
  v("cc_flags", h.cc_flags, !plain);
  v("mpr", h.mpr, !plain);
  v("sack_psn_offset", h.sack_psn_offset, !plain);
  v("sack_bitmap", h.sack_bitmap, !plain);
  v("ccx_state_hi", h.ccx_state_hi, ccx);
  v("ccx_state_lo", h.ccx_state_lo, ccx);
  v("service_time", h.service_time, cc && h.cc_type == 0);
  v("rc", h.rc, cc && h.cc_type == 0);
  v("rcv_cwnd_pend", h.rcv_cwnd_pend, cc && h.cc_type == 0);
  v("rcvd_bytes", h.rcvd_bytes, cc && h.cc_type == 0);
  v("credit", h.credit, cc && h.cc_type != 0);
  v("ooo_count", h.ooo_count, cc);
}

template <typename V>
void visit(Nack& h, V&& v) {
  v("type", h.type);
  v("nh", h.nh);
  v("flags", h.flags);
  v("nack_code", h.nack_code);
  v("vendor_code", h.vendor_code);
  v("nack_psn", h.nack_psn);
  v("spdcid", h.spdcid);
  v("dpdcid", h.dpdcid);
  v("payload", h.payload);
  v("nccx_type", h.nccx_type, h.type == 12);
  v("nack_ccx_state1", h.nack_ccx_state1, h.type == 12);
  v("nack_ccx_state2", h.nack_ccx_state2, h.type == 12);
}

template <typename V>
void visit(Cp& h, V&& v) {
  v("ctl_type", h.ctl_type);
  v("flags", h.flags);
  v("probe_opaque", h.probe_opaque, h.ctl_type == uint8_t(CtlType::kProbe));
  v("psn", h.psn);
  v("spdcid", h.spdcid);
  v("use_rsv_pdc", h.use_rsv_pdc, h.syn());
  v("psn_offset", h.psn_offset, h.syn());
  v("dpdcid", h.dpdcid, !h.syn());
  v("payload", h.payload);
}

template <typename V>
void visit(Rudi& h, V&& v) {
  v("type", h.type);
  v("nh", h.nh);
  v("flags", h.flags);
  v("pkt_id", h.pkt_id);
}

template <typename V>
void visit(Uud& h, V&& v) {
  v("nh", h.nh);
  v("flags", h.flags);
}

template <typename V>
void visit(Entropy& h, V&& v) {
  v("entropy", h.entropy);
}

template <typename V>
void visit(Tss& h, V&& v) {
  v("sp", h.sp);
  v("an", h.an);
  v("sdi", h.sdi);
  v("ssi", h.ssi, h.sp);
  v("epoch", h.epoch);
  v("counter", h.counter);
}

template <typename V>
void visit(RequestExt& e, V&& v) {
  const bool amo = e.kind == SesExt::kAtomic || e.kind == SesExt::kCas, cas = e.kind == SesExt::kCas,
             rdv = e.kind == SesExt::kRendezvous;
  v("atomic_opcode", e.atomic_opcode, amo);
  v("atomic_datatype", e.atomic_datatype, amo);
  v("semantic_ctrl", e.semantic_ctrl, amo);
  v("compare_hi", e.compare_hi, cas);
  v("compare_lo", e.compare_lo, cas);
  v("swap_hi", e.swap_hi, cas);
  v("swap_lo", e.swap_lo, cas);
  v("eager_length", e.eager_length, rdv);
  v("rdv_ri_generation", e.rdv_ri_generation, rdv);
  v("rdv_pid_on_fep", e.rdv_pid_on_fep, rdv);
  v("rdv_resource_index", e.rdv_resource_index, rdv);
  v("rdv_offset", e.rdv_offset, rdv);
  v("rdv_memory_key", e.rdv_memory_key, rdv);
}

// The leading fields the three request layouts share.
template <typename H, typename V>
void visit_request(H& h, V& v) {
  v("opcode", h.opcode);
  v("version", h.version);
  v("ri_generation", h.ri_generation);
  v("job_id", h.job_id);
  v("pid_on_fep", h.pid_on_fep);
  v("resource_index", h.resource_index);
}

template <typename V>
void visit(SesStd& h, V&& v) {
  visit_request(h, v);
  v("message_id", h.message_id);
  v("buffer_offset", h.buffer_offset);
  v("initiator", h.initiator);
  v("memory_key", h.memory_key);
  v("header_data", h.header_data, h.som());
  v("payload_length", h.payload_length, !h.som());
  v("message_offset", h.message_offset, !h.som());
  v("request_length", h.request_length);
  visit(h.ext, v);
}

template <typename V>
void visit(SesSmall& h, V&& v) {
  visit_request(h, v);
  v("request_length", h.request_length);
  v("buffer_offset", h.buffer_offset);
  visit(h.ext, v);
}

template <typename V>
void visit(SesMedium& h, V&& v) {
  visit_request(h, v);
  v("request_length", h.request_length);
  v("header_data", h.header_data, h.hd());
  v("buffer_offset", h.buffer_offset, !h.hd());
  v("initiator", h.initiator);
  v("memory_key", h.memory_key);
}

// The three response layouts, each its own order of the same kinds of fields.
template <typename V>
void visit(SesRsp& h, V&& v) {
  v("list", h.list);
  v("opcode", h.opcode);
  v("version", h.version);
  v("return_code", h.return_code);
  v("message_id", h.message_id);
  v("ri_generation", h.ri_generation);
  v("job_id", h.job_id);
  v("modified_length", h.modified_length);
}

template <typename V>
void visit(SesRspData& h, V&& v) {
  v("list", h.list);
  v("opcode", h.opcode);
  v("version", h.version);
  v("return_code", h.return_code);
  v("message_id", h.message_id);
  v("job_id", h.job_id);
  v("read_request_message_id", h.read_request_message_id);
  v("payload_length", h.payload_length);
  v("modified_length", h.modified_length);
  v("message_offset", h.message_offset);
}

template <typename V>
void visit(SesRspDataSmall& h, V&& v) {
  v("list", h.list);
  v("opcode", h.opcode);
  v("version", h.version);
  v("return_code", h.return_code);
  v("payload_length", h.payload_length);
  v("ri_generation", h.ri_generation);
  v("job_id", h.job_id);
  v("original_request_psn", h.original_request_psn);
}

// Flag bits are listed by name in the vectors beside the whole flags byte (PDS) or
// instead of it (SES requests).
using Bits = std::initializer_list<std::pair<const char*, uint8_t>>;
void put_bits(Fields& f, uint8_t flags, Bits bits) {
  for (const auto& [name, mask] : bits) f[name] = (flags & mask) ? 1 : 0;
}
const Bits kSesBits = {{"dc", sesflags::kDc}, {"ie", sesflags::kIe},   {"rel", sesflags::kRel},
                       {"hd", sesflags::kHd}, {"eom", sesflags::kEom}, {"som", sesflags::kSom}};

void put_ses_bits(Fields& f, uint8_t flags, bool with_hd) {
  put_bits(f, flags, kSesBits);
  if (!with_hd) f.erase("hd");
}

template <typename H>
void put_extra(Fields&, const H&) {}
void put_extra(Fields& f, const PdsRequest& h) {
  put_bits(f, h.flags, {{"retx", flags::kReqRetx}, {"ar", flags::kReqAr}, {"syn", flags::kReqSyn}});
}
void put_extra(Fields& f, const Ack& h) {
  put_bits(f, h.flags, {{"m", flags::kAckM}, {"retx", flags::kAckRetx}, {"p", flags::kAckP}});
  f["req"] = h.req();
  if (h.type == 7) f["epsn"] = h.epsn();
  if (h.type == 9) f["ccx_type"] = h.ccx_type();
  // The same 16 bits are a probe's opaque value or the ACK's PSN offset.
  if (h.p())
    f["probe_opaque"] = h.probe_opaque();
  else
    f["ack_psn_offset"] = s64(h.ack_psn_offset);
}
void put_extra(Fields& f, const Nack& h) {
  put_bits(f, h.flags, {{"m", flags::kNackM}, {"retx", flags::kNackRetx}, {"nt", flags::kNackNt}});
}
void put_extra(Fields& f, const Cp& h) {
  f["type"] = 11;
  put_bits(f, h.flags,
           {{"isrod", flags::kCpIsrod}, {"retx", flags::kCpRetx}, {"ar", flags::kCpAr}, {"syn", flags::kCpSyn}});
}
void put_extra(Fields& f, const Rudi& h) {
  put_bits(f, h.flags, {{"m", flags::kRudiM}, {"retx", flags::kRudiRetx}});
}
void put_extra(Fields& f, const Uud&) { f["type"] = 6; }
void put_extra(Fields& f, const Tss&) { f["type"] = 1; }
void put_extra(Fields& f, const SesStd& h) { put_ses_bits(f, h.flags, true); }
void put_extra(Fields& f, const SesSmall& h) { put_ses_bits(f, h.flags, false); }
void put_extra(Fields& f, const SesMedium& h) { put_ses_bits(f, h.flags, true); }

uint8_t ses_flags(const Fields& f) {
  uint8_t v = 0;
  for (const auto& [name, mask] : kSesBits)
    if (get(f, name)) v |= mask;
  return v;
}

template <typename H>
void take_extra(const Fields&, H*) {}
void take_extra(const Fields& f, Ack* h) {
  h->ack_psn_offset = int16_t(get(f, f.count("probe_opaque") ? "probe_opaque" : "ack_psn_offset"));
}
void take_extra(const Fields& f, SesStd* h) { h->flags = ses_flags(f); }
void take_extra(const Fields& f, SesSmall* h) { h->flags = ses_flags(f); }
void take_extra(const Fields& f, SesMedium* h) { h->flags = ses_flags(f); }

template <typename H>
Fields fields_of(H h) {
  Fields f;
  visit(h, ToFields{f});
  put_extra(f, h);
  return f;
}

template <typename H>
void build(const Fields& f, H* h) {
  *h = H{};
  visit(*h, FromFields{f});
  take_extra(f, h);
}

// ------------------------------------------------------------------- comparison

std::string describe(const Fields& f) {
  std::string s;
  for (const auto& [k, v] : f) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s=0x%llx ", k.c_str(), static_cast<unsigned long long>(v));
    s += buf;
  }
  return s;
}

bool same_fields(const std::string& name, const Fields& want, const Fields& got) {
  bool ok = true;
  for (const auto& [k, v] : want) {
    auto it = got.find(k);
    if (it == got.end()) {
      std::fprintf(stderr, "  %s: decoder has no key %s\n", name.c_str(), k.c_str());
      ok = false;
    } else if (it->second != v) {
      std::fprintf(stderr, "  %s: %s decoded 0x%llx, vector 0x%llx\n", name.c_str(), k.c_str(),
                   static_cast<unsigned long long>(it->second), static_cast<unsigned long long>(v));
      ok = false;
    }
  }
  for (const auto& [k, v] : got)
    if (!want.count(k)) {
      std::fprintf(stderr, "  %s: decoder has extra key %s\n", name.c_str(), k.c_str());
      ok = false;
    }
  return ok;
}

struct Tally {
  int total = 0;
  std::map<std::string, int> per_header;
};

template <typename H>
void run_one(const std::string& name, const std::vector<uint8_t>& bytes, const Fields& want) {
  H h{};
  DecodeStatus st = decode(bytes.data(), bytes.size(), &h);
  if (!CHECK_MSG(st.ok(), name + ": decode failed: " + wire_error_name(st.error) + " field " + st.field + " @" +
                             std::to_string(st.offset)))
    return;
  Fields got = fields_of(h);
  CHECK_MSG(same_fields(name, want, got), name + ": decoded fields differ; decoded " + describe(got));
  // A vector's length must be exactly the header's: a decoder that ignores trailing
  // bytes would otherwise hide a wrong size.
  CHECK_MSG(h.wire_len() == bytes.size(), name + ": header length " + std::to_string(h.wire_len()) + " vs hex " +
                                              std::to_string(bytes.size()));

  H built{};
  build(want, &built);
  std::vector<uint8_t> out(bytes.size() + 64, 0xEE);
  size_t n = encode(built, out.data(), out.size());
  CHECK_MSG(n == bytes.size() && std::equal(bytes.begin(), bytes.end(), out.begin()),
            name + ": encode gave " + nlf::json::to_hex(out.data(), n) + " want " +
                nlf::json::to_hex(bytes.data(), bytes.size()));
  // Too little room: nothing written, 0 returned.
  std::vector<uint8_t> small(bytes.size() - 1, 0xEE);
  CHECK_MSG(encode(built, small.data(), small.size()) == 0, name + ": encode into a short buffer must fail");
  // Every strict prefix must be rejected as too short, naming its own length.
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    std::vector<uint8_t> pre(bytes.begin(), bytes.begin() + cut);
    H t{};
    DecodeStatus ps = decode(pre.data(), pre.size(), &t);
    if (!CHECK_MSG(!ps.ok() && std::string(ps.field) == "length" && ps.offset == cut,
                   name + ": prefix of " + std::to_string(cut) + " bytes gave " + wire_error_name(ps.error) + " " +
                       ps.field + "@" + std::to_string(ps.offset)))
      break;
  }
}

template <typename H>
DecodeStatus decode_as(const std::vector<uint8_t>& b) {
  H h{};
  return decode(b.data(), b.size(), &h);
}

// Each vector names its layout; the PDS layouts that share a struct are told apart by type.
struct Layout {
  void (*run)(const std::string&, const std::vector<uint8_t>&, const Fields&);
  DecodeStatus (*decode)(const std::vector<uint8_t>&);
  std::vector<uint64_t> types;  // empty: the layout has no type field
};

template <typename H>
Layout layout(std::vector<uint64_t> types = {}) {
  return Layout{run_one<H>, decode_as<H>, std::move(types)};
}

const std::map<std::string, Layout>& layouts() {
  static const std::map<std::string, Layout> m = {
      {"rud_rod_req", layout<PdsRequest>({2, 3})},
      {"rud_rod_cc_req", layout<PdsRequest>({13, 14})},
      {"ack", layout<Ack>({7})},
      {"ack_cc", layout<Ack>({8})},
      {"ack_ccx", layout<Ack>({9})},
      {"nack", layout<Nack>({10})},
      {"nack_ccx", layout<Nack>({12})},
      {"cp", layout<Cp>()},
      {"rudi", layout<Rudi>()},
      {"uud", layout<Uud>()},
      {"entropy", layout<Entropy>()},
      {"tss", layout<Tss>()},
      {"ses_std", layout<SesStd>()},
      {"ses_small", layout<SesSmall>()},
      {"ses_medium", layout<SesMedium>()},
      {"ses_rsp", layout<SesRsp>()},
      {"ses_rsp_data", layout<SesRspData>()},
      {"ses_rsp_data_small", layout<SesRspDataSmall>()},
  };
  return m;
}

void run_file(const char* file, Tally* tally) {
  Value doc = nlf::json::parse_file(vector_path(file));
  const Value& vecs = doc["vectors"];
  REQUIRE(vecs.is_array());
  REQUIRE(vecs.size() > 0);
  for (const Value& v : vecs.items()) {
    const std::string name = v["name"].str();
    const std::string header = v["header"].str();
    const std::vector<uint8_t> bytes = nlf::json::hex_bytes(v["hex"].str());
    const Fields want = vector_fields(v["fields"]);
    ++tally->total;
    ++tally->per_header[header];
    auto it = layouts().find(header);
    if (!CHECK_MSG(it != layouts().end(), name + ": unknown header name " + header)) continue;
    const Layout& l = it->second;
    if (!l.types.empty())
      CHECK_MSG(std::count(l.types.begin(), l.types.end(), get(want, "type")) == 1,
                name + ": type does not match header " + header);
    l.run(name, bytes, want);
  }
}

}  // namespace

TEST_CASE(pds_vectors) {
  Tally t;
  run_file("pds.json", &t);
  std::fprintf(stderr, "  pds.json: %d vectors\n", t.total);
  // Every PDS layout must be exercised at least once.
  for (const char* h : {"entropy", "tss", "rud_rod_req", "rud_rod_cc_req", "ack", "ack_cc", "ack_ccx", "nack",
                        "nack_ccx", "cp", "rudi", "uud"})
    CHECK_MSG(t.per_header[h] > 0, std::string("no vector for ") + h);
}

TEST_CASE(ses_vectors) {
  Tally t;
  run_file("ses.json", &t);
  std::fprintf(stderr, "  ses.json: %d vectors\n", t.total);
  for (const char* h : {"ses_std", "ses_small", "ses_medium", "ses_rsp", "ses_rsp_data", "ses_rsp_data_small"})
    CHECK_MSG(t.per_header[h] > 0, std::string("no vector for ") + h);
}

namespace {

DecodeStatus decode_malformed(const Value& v, const std::vector<uint8_t>& b, bool* known) {
  const std::string header = v["header"].str();
  *known = true;
  if (header == "pds") {
    PdsHeader h{};
    return decode_pds(b.data(), b.size(), &h);
  }
  if (header == "packet") {
    static const uint8_t addrs[8] = {127, 0, 0, 1, 127, 0, 0, 1};
    static const uint8_t udp[8] = {0x12, 0x34, 0x12, 0xb9, 0, 0, 0, 0};
    const bool ip = v.has("encap") && v["encap"].str() == "ip";
    CrcCover cover{addrs, sizeof addrs, ip ? nullptr : udp};
    const CrcCover* crc = v.has("trailer") && v["trailer"].str() == "crc" ? &cover : nullptr;
    Packet pkt;
    return ip ? parse_packet_ip(b.data(), b.size(), &pkt, crc) : parse_packet(b.data(), b.size(), &pkt, crc);
  }
  auto it = layouts().find(header);
  if (it != layouts().end()) return it->second.decode(b);
  *known = false;
  return kDecodeOk;
}

}  // namespace

TEST_CASE(malformed_vectors) {
  Value doc = nlf::json::parse_file(vector_path("malformed.json"));
  const Value& vecs = doc["vectors"];
  REQUIRE(vecs.size() > 0);
  int n = 0;
  for (const Value& v : vecs.items()) {
    const std::string name = v["name"].str();
    const std::vector<uint8_t> b = nlf::json::hex_bytes(v["hex"].str());
    bool known = false;
    DecodeStatus st = decode_malformed(v, b, &known);
    if (!CHECK_MSG(known, name + ": unknown header " + v["header"].str())) continue;
    ++n;
    const std::string want_field = v["error_field"].str();
    const uint64_t want_off = v["error_offset"].as_u64();
    CHECK_MSG(!st.ok(), name + ": accepted");
    CHECK_MSG(want_field == st.field && want_off == st.offset,
              name + ": rejected naming " + st.field + "@" + std::to_string(st.offset) + " (" +
                  wire_error_name(st.error) + "), vector says " + want_field + "@" + std::to_string(want_off));
  }
  std::fprintf(stderr, "  malformed.json: %d vectors\n", n);
}

NLF_TEST_MAIN()
