// xml_reader.hpp -- a tiny, non-validating XML reader for the small documents storage services
// return (listings, error bodies): elements, attributes, text, the five named entities and
// numeric character references, CDATA, comments and the XML declaration. No DTDs, no namespaces
// (prefixes are kept as part of the name).
//
// Ownership: parse() returns a tree of values; children are owned by their parent.
// Thread-safety: pure functions over values.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace arraymorph::azure {

struct XmlElement {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string text;  // concatenated character data directly inside this element, entities decoded
  std::vector<XmlElement> children;

  // First child named `child_name`, or nullptr.
  const XmlElement* child(const std::string& child_name) const;
  // Text of the first child named `child_name`, or "" when absent.
  std::string child_text(const std::string& child_name) const;
  std::optional<std::string> attribute(const std::string& attr_name) const;
};

// The document's root element; nullopt with `error` set when the text is not well-formed enough
// to read (unbalanced tags, truncated input).
std::optional<XmlElement> parse_xml(const std::string& text, std::string* error = nullptr);

// Escapes &, <, >, " and ' for use in text or attribute values.
std::string xml_escape(const std::string& s);

}  // namespace arraymorph::azure
