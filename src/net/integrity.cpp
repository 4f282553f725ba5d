// integrity.cpp -- see integrity.hpp.
#include "net/integrity.hpp"

#include <optional>
#include <vector>

#include "net/crypto.hpp"

namespace arraymorph::net {
namespace {

// The body as pieces in order, or nullopt when it cannot be seen whole.
std::optional<std::vector<Piece>> body_pieces(const HttpResponse& r, const GetDestination* dest) {
  if (!r.into_dest) return std::vector<Piece>{{r.body.data(), r.body.size()}};
  if (!dest) return std::nullopt;
  std::vector<Piece> out;
  uint64_t next = 0;
  for (const DestSpan& s : dest->spans) {
    if (s.offset != next) return std::nullopt;  // a gap: those bytes were dropped
    out.emplace_back(s.dst, s.size);
    next += s.size;
  }
  if (next != r.dest_bytes) return std::nullopt;
  return out;
}

}  // namespace

std::string check_crc32c(const HttpResponse& r, const GetDestination* dest,
                         const std::string& expected) {
  auto pieces = body_pieces(r, dest);
  if (!pieces) return "";
  uint32_t crc = 0;
  for (const auto& [p, n] : *pieces) crc = crc32c(p, n, crc);
  const std::string actual = crc32c_base64(crc);
  return actual == expected ? "" : "crc32c " + expected + " expected, body has " + actual;
}

std::string check_md5(const HttpResponse& r, const GetDestination* dest,
                      const std::string& expected) {
  auto pieces = body_pieces(r, dest);
  if (!pieces) return "";
  const std::string actual = md5_base64(*pieces);
  return actual == expected ? "" : "Content-MD5 " + expected + " expected, body has " + actual;
}

}  // namespace arraymorph::net
