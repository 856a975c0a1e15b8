// Conformance of the C++ wire codecs (native/softuet/wire) with the shared vectors in
// test/vectors: for every header vector, decode(hex) must yield exactly `fields` (no key
// more, no key less) and encode(fields) must yield exactly `hex`; every malformed input
// must be rejected naming the same field and byte offset.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
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

// ------------------------------------------------------------------- struct -> fields

void put_flag_bits(Fields& f, uint8_t flags, std::initializer_list<std::pair<const char*, uint8_t>> bits) {
  f["flags"] = flags;
  for (const auto& [name, mask] : bits) f[name] = (flags & mask) ? 1 : 0;
}

Fields fields_of(const PdsRequest& h) {
  Fields f;
  f["type"] = h.type;
  f["nh"] = h.nh;
  put_flag_bits(f, h.flags, {{"retx", flags::kReqRetx}, {"ar", flags::kReqAr}, {"syn", flags::kReqSyn}});
  f["clear_psn_offset"] = s64(h.clear_psn_offset);
  f["psn"] = h.psn;
  f["spdcid"] = h.spdcid;
  if (h.syn()) {
    f["use_rsv_pdc"] = h.use_rsv_pdc;
    f["psn_offset"] = h.psn_offset;
  } else {
    f["dpdcid"] = h.dpdcid;
  }
  if (h.has_cc()) {
    f["ccc_id"] = h.ccc_id;
    f["credit_target"] = h.credit_target;
  }
  return f;
}

Fields fields_of(const Ack& h) {
  Fields f;
  f["type"] = h.type;
  f["nh"] = h.nh;
  put_flag_bits(f, h.flags, {{"m", flags::kAckM}, {"retx", flags::kAckRetx}, {"p", flags::kAckP}});
  f["req"] = h.req();
  if (h.type == 7) f["epsn"] = h.epsn();
  if (h.p())
    f["probe_opaque"] = h.probe_opaque();
  else
    f["ack_psn_offset"] = s64(h.ack_psn_offset);
  f["cack_psn"] = h.cack_psn;
  f["spdcid"] = h.spdcid;
  f["dpdcid"] = h.dpdcid;
  if (h.type == 7) {
    if (h.epsn()) f["expected_psn"] = h.expected_psn;
    return f;
  }
  f["cc_type"] = h.cc_type;
  f["cc_flags"] = h.cc_flags;
  f["mpr"] = h.mpr;
  f["sack_psn_offset"] = s64(h.sack_psn_offset);
  f["sack_bitmap"] = h.sack_bitmap;
  if (h.type == 9) {
    f["ccx_type"] = h.ccx_type();
    f["ccx_state_hi"] = h.ccx_state_hi;
    f["ccx_state_lo"] = h.ccx_state_lo;
  } else if (h.cc_type == 0) {
    f["service_time"] = h.service_time;
    f["rc"] = h.rc;
    f["rcv_cwnd_pend"] = h.rcv_cwnd_pend;
    f["rcvd_bytes"] = h.rcvd_bytes;
    f["ooo_count"] = h.ooo_count;
  } else {
    f["credit"] = h.credit;
    f["ooo_count"] = h.ooo_count;
  }
  return f;
}

Fields fields_of(const Nack& h) {
  Fields f;
  f["type"] = h.type;
  f["nh"] = h.nh;
  put_flag_bits(f, h.flags, {{"m", flags::kNackM}, {"retx", flags::kNackRetx}, {"nt", flags::kNackNt}});
  f["nack_code"] = h.nack_code;
  f["vendor_code"] = h.vendor_code;
  f["nack_psn"] = h.nack_psn;
  f["spdcid"] = h.spdcid;
  f["dpdcid"] = h.dpdcid;
  f["payload"] = h.payload;
  if (h.type == 12) {
    f["nccx_type"] = h.nccx_type;
    f["nack_ccx_state1"] = h.nack_ccx_state1;
    f["nack_ccx_state2"] = h.nack_ccx_state2;
  }
  return f;
}

Fields fields_of(const Cp& h) {
  Fields f;
  f["type"] = 11;
  f["ctl_type"] = h.ctl_type;
  put_flag_bits(f, h.flags,
                {{"isrod", flags::kCpIsrod}, {"retx", flags::kCpRetx}, {"ar", flags::kCpAr}, {"syn", flags::kCpSyn}});
  if (h.ctl_type == uint8_t(CtlType::kProbe)) f["probe_opaque"] = h.probe_opaque;
  f["psn"] = h.psn;
  f["spdcid"] = h.spdcid;
  if (h.syn()) {
    f["use_rsv_pdc"] = h.use_rsv_pdc;
    f["psn_offset"] = h.psn_offset;
  } else {
    f["dpdcid"] = h.dpdcid;
  }
  f["payload"] = h.payload;
  return f;
}

Fields fields_of(const Rudi& h) {
  Fields f;
  f["type"] = h.type;
  f["nh"] = h.nh;
  put_flag_bits(f, h.flags, {{"m", flags::kRudiM}, {"retx", flags::kRudiRetx}});
  f["pkt_id"] = h.pkt_id;
  return f;
}

Fields fields_of(const Uud& h) {
  Fields f;
  f["type"] = 6;
  f["nh"] = h.nh;
  f["flags"] = h.flags;
  return f;
}

Fields fields_of(const Entropy& h) { return Fields{{"entropy", h.entropy}}; }

Fields fields_of(const Tss& h) {
  Fields f{{"type", 1}, {"sp", h.sp}, {"an", h.an}, {"sdi", h.sdi}, {"epoch", h.epoch}, {"counter", h.counter}};
  if (h.sp) f["ssi"] = h.ssi;
  return f;
}

void put_req_flags(Fields& f, uint8_t flags, bool with_hd) {
  f["dc"] = (flags & sesflags::kDc) ? 1 : 0;
  f["ie"] = (flags & sesflags::kIe) ? 1 : 0;
  f["rel"] = (flags & sesflags::kRel) ? 1 : 0;
  if (with_hd) f["hd"] = (flags & sesflags::kHd) ? 1 : 0;
  f["eom"] = (flags & sesflags::kEom) ? 1 : 0;
  f["som"] = (flags & sesflags::kSom) ? 1 : 0;
}

void put_ext(Fields& f, const RequestExt& e) {
  switch (e.kind) {
    case SesExt::kNone: return;
    case SesExt::kAtomic:
    case SesExt::kCas:
      f["atomic_opcode"] = e.atomic_opcode;
      f["atomic_datatype"] = e.atomic_datatype;
      f["semantic_ctrl"] = e.semantic_ctrl;
      if (e.kind == SesExt::kCas) {
        f["compare_hi"] = e.compare_hi;
        f["compare_lo"] = e.compare_lo;
        f["swap_hi"] = e.swap_hi;
        f["swap_lo"] = e.swap_lo;
      }
      return;
    case SesExt::kRendezvous:
      f["eager_length"] = e.eager_length;
      f["rdv_ri_generation"] = e.rdv_ri_generation;
      f["rdv_pid_on_fep"] = e.rdv_pid_on_fep;
      f["rdv_resource_index"] = e.rdv_resource_index;
      f["rdv_offset"] = e.rdv_offset;
      f["rdv_memory_key"] = e.rdv_memory_key;
      return;
  }
}

void put_addr(Fields& f, uint8_t gen, uint32_t job, uint16_t pid, uint16_t ri) {
  f["ri_generation"] = gen;
  f["job_id"] = job;
  f["pid_on_fep"] = pid;
  f["resource_index"] = ri;
}

Fields fields_of(const SesStd& h) {
  Fields f{{"opcode", h.opcode}, {"version", h.version}, {"message_id", h.message_id}};
  put_req_flags(f, h.flags, true);
  put_addr(f, h.ri_generation, h.job_id, h.pid_on_fep, h.resource_index);
  f["buffer_offset"] = h.buffer_offset;
  f["initiator"] = h.initiator;
  f["memory_key"] = h.memory_key;
  if (h.som()) {
    f["header_data"] = h.header_data;
  } else {
    f["payload_length"] = h.payload_length;
    f["message_offset"] = h.message_offset;
  }
  f["request_length"] = h.request_length;
  put_ext(f, h.ext);
  return f;
}

Fields fields_of(const SesSmall& h) {
  Fields f{{"opcode", h.opcode}, {"version", h.version}, {"request_length", h.request_length}};
  put_req_flags(f, h.flags, false);
  put_addr(f, h.ri_generation, h.job_id, h.pid_on_fep, h.resource_index);
  f["buffer_offset"] = h.buffer_offset;
  put_ext(f, h.ext);
  return f;
}

Fields fields_of(const SesMedium& h) {
  Fields f{{"opcode", h.opcode}, {"version", h.version}, {"request_length", h.request_length}};
  put_req_flags(f, h.flags, true);
  put_addr(f, h.ri_generation, h.job_id, h.pid_on_fep, h.resource_index);
  if (h.hd())
    f["header_data"] = h.header_data;
  else
    f["buffer_offset"] = h.buffer_offset;
  f["initiator"] = h.initiator;
  f["memory_key"] = h.memory_key;
  return f;
}

Fields fields_of(const SesRsp& h) {
  return Fields{{"list", h.list},
                {"opcode", h.opcode},
                {"version", h.version},
                {"return_code", h.return_code},
                {"message_id", h.message_id},
                {"ri_generation", h.ri_generation},
                {"job_id", h.job_id},
                {"modified_length", h.modified_length}};
}

Fields fields_of(const SesRspData& h) {
  return Fields{{"list", h.list},
                {"opcode", h.opcode},
                {"version", h.version},
                {"return_code", h.return_code},
                {"message_id", h.message_id},
                {"job_id", h.job_id},
                {"read_request_message_id", h.read_request_message_id},
                {"payload_length", h.payload_length},
                {"modified_length", h.modified_length},
                {"message_offset", h.message_offset}};
}

Fields fields_of(const SesRspDataSmall& h) {
  return Fields{{"list", h.list},
                {"opcode", h.opcode},
                {"version", h.version},
                {"return_code", h.return_code},
                {"payload_length", h.payload_length},
                {"ri_generation", h.ri_generation},
                {"job_id", h.job_id},
                {"original_request_psn", h.original_request_psn}};
}

// ------------------------------------------------------------------- fields -> struct

uint8_t u8(const Fields& f, const char* k) { return uint8_t(get(f, k)); }
uint16_t u16(const Fields& f, const char* k) { return uint16_t(get(f, k)); }
uint32_t u32(const Fields& f, const char* k) { return uint32_t(get(f, k)); }

void build(const Fields& f, PdsRequest* h) {
  *h = PdsRequest{};
  h->type = u8(f, "type");
  h->nh = u8(f, "nh");
  h->flags = u8(f, "flags");
  h->clear_psn_offset = int16_t(get(f, "clear_psn_offset"));
  h->psn = u32(f, "psn");
  h->spdcid = u16(f, "spdcid");
  h->dpdcid = u16(f, "dpdcid");
  h->use_rsv_pdc = get(f, "use_rsv_pdc");
  h->psn_offset = u16(f, "psn_offset");
  h->ccc_id = u8(f, "ccc_id");
  h->credit_target = u32(f, "credit_target");
}

void build(const Fields& f, Ack* h) {
  *h = Ack{};
  h->type = u8(f, "type");
  h->nh = u8(f, "nh");
  h->flags = u8(f, "flags");
  h->ack_psn_offset = f.count("probe_opaque") ? int16_t(get(f, "probe_opaque")) : int16_t(get(f, "ack_psn_offset"));
  h->cack_psn = u32(f, "cack_psn");
  h->spdcid = u16(f, "spdcid");
  h->dpdcid = u16(f, "dpdcid");
  h->expected_psn = u32(f, "expected_psn");
  h->cc_type = u8(f, "cc_type");
  h->cc_flags = u8(f, "cc_flags");
  h->mpr = u8(f, "mpr");
  h->sack_psn_offset = int16_t(get(f, "sack_psn_offset"));
  h->sack_bitmap = get(f, "sack_bitmap");
  h->service_time = u16(f, "service_time");
  h->rc = u8(f, "rc");
  h->rcv_cwnd_pend = u8(f, "rcv_cwnd_pend");
  h->rcvd_bytes = u32(f, "rcvd_bytes");
  h->credit = u32(f, "credit");
  h->ooo_count = u16(f, "ooo_count");
  h->ccx_state_hi = get(f, "ccx_state_hi");
  h->ccx_state_lo = get(f, "ccx_state_lo");
}

void build(const Fields& f, Nack* h) {
  *h = Nack{};
  h->type = u8(f, "type");
  h->nh = u8(f, "nh");
  h->flags = u8(f, "flags");
  h->nack_code = u8(f, "nack_code");
  h->vendor_code = u8(f, "vendor_code");
  h->nack_psn = u32(f, "nack_psn");
  h->spdcid = u16(f, "spdcid");
  h->dpdcid = u16(f, "dpdcid");
  h->payload = u32(f, "payload");
  h->nccx_type = u8(f, "nccx_type");
  h->nack_ccx_state1 = get(f, "nack_ccx_state1");
  h->nack_ccx_state2 = get(f, "nack_ccx_state2");
}

void build(const Fields& f, Cp* h) {
  *h = Cp{};
  h->ctl_type = u8(f, "ctl_type");
  h->flags = u8(f, "flags");
  h->probe_opaque = u16(f, "probe_opaque");
  h->psn = u32(f, "psn");
  h->spdcid = u16(f, "spdcid");
  h->dpdcid = u16(f, "dpdcid");
  h->use_rsv_pdc = get(f, "use_rsv_pdc");
  h->psn_offset = u16(f, "psn_offset");
  h->payload = u32(f, "payload");
}

void build(const Fields& f, Rudi* h) {
  *h = Rudi{};
  h->type = u8(f, "type");
  h->nh = u8(f, "nh");
  h->flags = u8(f, "flags");
  h->pkt_id = u32(f, "pkt_id");
}

void build(const Fields& f, Uud* h) {
  h->nh = u8(f, "nh");
  h->flags = u8(f, "flags");
}

void build(const Fields& f, Entropy* h) { h->entropy = u16(f, "entropy"); }

void build(const Fields& f, Tss* h) {
  *h = Tss{};
  h->sp = get(f, "sp");
  h->an = get(f, "an");
  h->sdi = u32(f, "sdi");
  h->ssi = u32(f, "ssi");
  h->epoch = u16(f, "epoch");
  h->counter = get(f, "counter");
}

uint8_t req_flags(const Fields& f) {
  return uint8_t((get(f, "dc") ? sesflags::kDc : 0) | (get(f, "ie") ? sesflags::kIe : 0) |
                 (get(f, "rel") ? sesflags::kRel : 0) | (get(f, "hd") ? sesflags::kHd : 0) |
                 (get(f, "eom") ? sesflags::kEom : 0) | (get(f, "som") ? sesflags::kSom : 0));
}

void build_ext(const Fields& f, RequestExt* e) {
  *e = RequestExt{};
  e->atomic_opcode = u8(f, "atomic_opcode");
  e->atomic_datatype = u8(f, "atomic_datatype");
  e->semantic_ctrl = u8(f, "semantic_ctrl");
  e->compare_hi = get(f, "compare_hi");
  e->compare_lo = get(f, "compare_lo");
  e->swap_hi = get(f, "swap_hi");
  e->swap_lo = get(f, "swap_lo");
  e->eager_length = u32(f, "eager_length");
  e->rdv_ri_generation = u8(f, "rdv_ri_generation");
  e->rdv_pid_on_fep = u16(f, "rdv_pid_on_fep");
  e->rdv_resource_index = u16(f, "rdv_resource_index");
  e->rdv_offset = get(f, "rdv_offset");
  e->rdv_memory_key = get(f, "rdv_memory_key");
}

void build(const Fields& f, SesStd* h) {
  *h = SesStd{};
  h->opcode = u8(f, "opcode");
  h->version = u8(f, "version");
  h->flags = req_flags(f);
  h->message_id = u16(f, "message_id");
  h->ri_generation = u8(f, "ri_generation");
  h->job_id = u32(f, "job_id");
  h->pid_on_fep = u16(f, "pid_on_fep");
  h->resource_index = u16(f, "resource_index");
  h->buffer_offset = get(f, "buffer_offset");
  h->initiator = u32(f, "initiator");
  h->memory_key = get(f, "memory_key");
  h->header_data = get(f, "header_data");
  h->payload_length = u16(f, "payload_length");
  h->message_offset = u32(f, "message_offset");
  h->request_length = u32(f, "request_length");
  build_ext(f, &h->ext);
}

void build(const Fields& f, SesSmall* h) {
  *h = SesSmall{};
  h->opcode = u8(f, "opcode");
  h->version = u8(f, "version");
  h->flags = req_flags(f);
  h->request_length = u16(f, "request_length");
  h->ri_generation = u8(f, "ri_generation");
  h->job_id = u32(f, "job_id");
  h->pid_on_fep = u16(f, "pid_on_fep");
  h->resource_index = u16(f, "resource_index");
  h->buffer_offset = get(f, "buffer_offset");
  build_ext(f, &h->ext);
}

void build(const Fields& f, SesMedium* h) {
  *h = SesMedium{};
  h->opcode = u8(f, "opcode");
  h->version = u8(f, "version");
  h->flags = req_flags(f);
  h->request_length = u16(f, "request_length");
  h->ri_generation = u8(f, "ri_generation");
  h->job_id = u32(f, "job_id");
  h->pid_on_fep = u16(f, "pid_on_fep");
  h->resource_index = u16(f, "resource_index");
  h->buffer_offset = get(f, "buffer_offset");
  h->header_data = get(f, "header_data");
  h->initiator = u32(f, "initiator");
  h->memory_key = get(f, "memory_key");
}

void build(const Fields& f, SesRsp* h) {
  *h = SesRsp{};
  h->list = u8(f, "list");
  h->opcode = u8(f, "opcode");
  h->version = u8(f, "version");
  h->return_code = u8(f, "return_code");
  h->message_id = u16(f, "message_id");
  h->ri_generation = u8(f, "ri_generation");
  h->job_id = u32(f, "job_id");
  h->modified_length = u32(f, "modified_length");
}

void build(const Fields& f, SesRspData* h) {
  *h = SesRspData{};
  h->list = u8(f, "list");
  h->opcode = u8(f, "opcode");
  h->version = u8(f, "version");
  h->return_code = u8(f, "return_code");
  h->message_id = u16(f, "message_id");
  h->job_id = u32(f, "job_id");
  h->read_request_message_id = u16(f, "read_request_message_id");
  h->payload_length = u16(f, "payload_length");
  h->modified_length = u32(f, "modified_length");
  h->message_offset = u32(f, "message_offset");
}

void build(const Fields& f, SesRspDataSmall* h) {
  *h = SesRspDataSmall{};
  h->list = u8(f, "list");
  h->opcode = u8(f, "opcode");
  h->version = u8(f, "version");
  h->return_code = u8(f, "return_code");
  h->payload_length = u16(f, "payload_length");
  h->ri_generation = u8(f, "ri_generation");
  h->job_id = u32(f, "job_id");
  h->original_request_psn = u32(f, "original_request_psn");
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
    const uint64_t type = get(want, "type");
    if (header == "rud_rod_req") {
      CHECK_MSG(type == 2 || type == 3, name);
      run_one<PdsRequest>(name, bytes, want);
    } else if (header == "rud_rod_cc_req") {
      CHECK_MSG(type == 13 || type == 14, name);
      run_one<PdsRequest>(name, bytes, want);
    } else if (header == "ack") {
      CHECK_MSG(type == 7, name);
      run_one<Ack>(name, bytes, want);
    } else if (header == "ack_cc") {
      CHECK_MSG(type == 8, name);
      run_one<Ack>(name, bytes, want);
    } else if (header == "ack_ccx") {
      CHECK_MSG(type == 9, name);
      run_one<Ack>(name, bytes, want);
    } else if (header == "nack") {
      CHECK_MSG(type == 10, name);
      run_one<Nack>(name, bytes, want);
    } else if (header == "nack_ccx") {
      CHECK_MSG(type == 12, name);
      run_one<Nack>(name, bytes, want);
    } else if (header == "cp") {
      run_one<Cp>(name, bytes, want);
    } else if (header == "rudi") {
      run_one<Rudi>(name, bytes, want);
    } else if (header == "uud") {
      run_one<Uud>(name, bytes, want);
    } else if (header == "entropy") {
      run_one<Entropy>(name, bytes, want);
    } else if (header == "tss") {
      run_one<Tss>(name, bytes, want);
    } else if (header == "ses_std") {
      run_one<SesStd>(name, bytes, want);
    } else if (header == "ses_small") {
      run_one<SesSmall>(name, bytes, want);
    } else if (header == "ses_medium") {
      run_one<SesMedium>(name, bytes, want);
    } else if (header == "ses_rsp") {
      run_one<SesRsp>(name, bytes, want);
    } else if (header == "ses_rsp_data") {
      run_one<SesRspData>(name, bytes, want);
    } else if (header == "ses_rsp_data_small") {
      run_one<SesRspDataSmall>(name, bytes, want);
    } else {
      CHECK_MSG(false, name + ": unknown header name " + header);
    }
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

template <typename H>
DecodeStatus decode_as(const std::vector<uint8_t>& b) {
  H h{};
  return decode(b.data(), b.size(), &h);
}

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
  if (header == "rud_rod_req" || header == "rud_rod_cc_req") return decode_as<PdsRequest>(b);
  if (header == "ack" || header == "ack_cc" || header == "ack_ccx") return decode_as<Ack>(b);
  if (header == "nack" || header == "nack_ccx") return decode_as<Nack>(b);
  if (header == "cp") return decode_as<Cp>(b);
  if (header == "rudi") return decode_as<Rudi>(b);
  if (header == "uud") return decode_as<Uud>(b);
  if (header == "entropy") return decode_as<Entropy>(b);
  if (header == "tss") return decode_as<Tss>(b);
  if (header == "ses_std") return decode_as<SesStd>(b);
  if (header == "ses_small") return decode_as<SesSmall>(b);
  if (header == "ses_medium") return decode_as<SesMedium>(b);
  if (header == "ses_rsp") return decode_as<SesRsp>(b);
  if (header == "ses_rsp_data") return decode_as<SesRspData>(b);
  if (header == "ses_rsp_data_small") return decode_as<SesRspDataSmall>(b);
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
