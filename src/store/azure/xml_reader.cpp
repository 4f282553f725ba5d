// xml_reader.cpp -- see xml_reader.hpp. A recursive-descent reader over the whole string.
#include "store/azure/xml_reader.hpp"

#include <cctype>
#include <cstdint>

namespace arraymorph::azure {
namespace {

// Appends the UTF-8 encoding of a code point (from &#NNN; references).
void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string decode_entities(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const size_t semi = s.find(';', i);
    if (semi == std::string::npos) {
      out += s[i];
      continue;
    }
    const std::string ent = s.substr(i + 1, semi - i - 1);
    bool known = true;
    if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "amp") out += '&';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (ent.size() > 1 && ent[0] == '#') {
      const bool hex = ent[1] == 'x' || ent[1] == 'X';
      try {
        append_utf8(out, static_cast<uint32_t>(std::stoul(ent.substr(hex ? 2 : 1), nullptr,
                                                          hex ? 16 : 10)));
      } catch (...) {
        known = false;
      }
    } else {
      known = false;
    }
    if (known) {
      i = semi;
    } else {
      out += s[i];
    }
  }
  return out;
}

class Parser {
 public:
  explicit Parser(const std::string& t) : t_(t) {}

  std::optional<XmlElement> document(std::string* error) {
    if (starts("\xEF\xBB\xBF")) pos_ += 3;  // Azure prefixes its XML bodies with a UTF-8 BOM
    skip_misc();
    if (pos_ >= t_.size() || t_[pos_] != '<') return fail(error, "no root element");
    XmlElement root;
    if (!element(root)) return fail(error, error_);
    return root;
  }

 private:
  std::optional<XmlElement> fail(std::string* error, const std::string& why) {
    if (error) *error = why + " (at byte " + std::to_string(pos_) + ")";
    return std::nullopt;
  }

  bool starts(const char* s) const { return t_.compare(pos_, std::char_traits<char>::length(s), s) == 0; }

  void skip_space() {
    while (pos_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[pos_]))) ++pos_;
  }

  // Skips whitespace, <?...?>, <!--...--> and <!DOCTYPE ...> before/after the root.
  void skip_misc() {
    for (;;) {
      skip_space();
      if (starts("<?")) {
        skip_past("?>");
      } else if (starts("<!--")) {
        skip_past("-->");
      } else if (starts("<!")) {
        skip_past(">");
      } else {
        return;
      }
    }
  }

  void skip_past(const char* end) {
    const size_t p = t_.find(end, pos_);
    pos_ = p == std::string::npos ? t_.size() : p + std::char_traits<char>::length(end);
  }

  std::string name() {
    const size_t b = pos_;
    while (pos_ < t_.size()) {
      const char c = t_[pos_];
      if (std::isspace(static_cast<unsigned char>(c)) || c == '>' || c == '/' || c == '=') break;
      ++pos_;
    }
    return t_.substr(b, pos_ - b);
  }

  bool element(XmlElement& e) {
    ++pos_;  // '<'
    e.name = name();
    if (e.name.empty()) return err("empty element name");
    // Attributes.
    for (;;) {
      skip_space();
      if (pos_ >= t_.size()) return err("truncated start tag <" + e.name + ">");
      if (starts("/>")) {
        pos_ += 2;
        return true;
      }
      if (t_[pos_] == '>') {
        ++pos_;
        break;
      }
      std::string an = name();
      skip_space();
      if (an.empty() || pos_ >= t_.size() || t_[pos_] != '=') return err("bad attribute in <" + e.name + ">");
      ++pos_;
      skip_space();
      if (pos_ >= t_.size() || (t_[pos_] != '"' && t_[pos_] != '\'')) return err("unquoted attribute");
      const char q = t_[pos_++];
      const size_t end = t_.find(q, pos_);
      if (end == std::string::npos) return err("unterminated attribute");
      e.attributes.emplace_back(std::move(an), decode_entities(t_.substr(pos_, end - pos_)));
      pos_ = end + 1;
    }
    // Content.
    for (;;) {
      if (pos_ >= t_.size()) return err("missing </" + e.name + ">");
      if (starts("</")) {
        pos_ += 2;
        const std::string closing = name();
        skip_space();
        if (closing != e.name || pos_ >= t_.size() || t_[pos_] != '>')
          return err("</" + closing + "> does not close <" + e.name + ">");
        ++pos_;
        return true;
      }
      if (starts("<![CDATA[")) {
        pos_ += 9;
        const size_t end = t_.find("]]>", pos_);
        if (end == std::string::npos) return err("unterminated CDATA");
        e.text += t_.substr(pos_, end - pos_);
        pos_ = end + 3;
      } else if (starts("<!--")) {
        skip_past("-->");
      } else if (starts("<?")) {
        skip_past("?>");
      } else if (t_[pos_] == '<') {
        e.children.emplace_back();
        if (!element(e.children.back())) return false;
      } else {
        const size_t end = t_.find('<', pos_);
        const size_t stop = end == std::string::npos ? t_.size() : end;
        e.text += decode_entities(t_.substr(pos_, stop - pos_));
        pos_ = stop;
      }
    }
  }

  bool err(const std::string& why) {
    error_ = why;
    return false;
  }

  const std::string& t_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

const XmlElement* XmlElement::child(const std::string& child_name) const {
  for (const auto& c : children)
    if (c.name == child_name) return &c;
  return nullptr;
}

std::string XmlElement::child_text(const std::string& child_name) const {
  const XmlElement* c = child(child_name);
  return c ? c->text : std::string();
}

std::optional<std::string> XmlElement::attribute(const std::string& attr_name) const {
  for (const auto& [n, v] : attributes)
    if (n == attr_name) return v;
  return std::nullopt;
}

std::optional<XmlElement> parse_xml(const std::string& text, std::string* error) {
  return Parser(text).document(error);
}

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace arraymorph::azure
