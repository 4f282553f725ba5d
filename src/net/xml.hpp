// xml.hpp -- the one XML reader (and escaper) for the small documents storage services send and
// take: S3 listings, errors, multipart and batch-delete bodies; Azure List Blobs and error bodies.
//
// Tolerant and iterative (an explicit stack, no recursion, so a deeply nested hostile body cannot
// overflow the C++ stack): elements, attributes, text, the five predefined entities and numeric
// character references, CDATA, comments, processing instructions, DOCTYPE and a leading UTF-8
// BOM. Namespace prefixes are dropped from element names. An unclosed inner element is closed by
// its parent's end tag; an end tag with no start tag, a truncated document, no root element or
// elements nested deeper than kMaxXmlDepth (the returned tree is destroyed recursively) is a kIo
// Status with a short excerpt. It never throws.
//
// Ownership: parse_xml returns a tree of values; children are owned by their parent.
// Thread-safety: pure functions over values.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.hpp"

namespace arraymorph::net {

struct XmlNode {
  std::string name;  // local name (prefix stripped)
  std::vector<std::pair<std::string, std::string>> attributes;  // values entity-decoded
  std::string text;  // decoded character data directly inside this element
  std::vector<XmlNode> children;

  // First child named n, or nullptr.
  const XmlNode* child(const std::string& n) const;
  std::vector<const XmlNode*> children_named(const std::string& n) const;
  // Text of the first child called n, or "" when absent.
  std::string child_text(const std::string& n) const;
  std::optional<std::string> attribute(const std::string& n) const;
};

inline constexpr size_t kMaxXmlDepth = 256;

// Parses a document and returns its root element.
Result<XmlNode> parse_xml(const std::string& text);
// "&lt;a&amp;b&#x41;&#66;" -> "<a&bAB"; unknown entities are kept literally.
std::string decode_entities(const std::string& s);
// Escapes & < > " ' for element text and attribute values.
std::string escape_xml(const std::string& s);

}  // namespace arraymorph::net
