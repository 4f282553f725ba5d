// xml.cpp -- see xml.hpp.
#include "net/xml.hpp"

#include <cstdlib>

#include "net/strings.hpp"

namespace arraymorph::net {

namespace {

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string local_name(const std::string& qname) {
  const auto colon = qname.find(':');
  return colon == std::string::npos ? qname : qname.substr(colon + 1);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Reads the attributes of a start tag from text[i] up to its closing '>' (exclusive), honouring
// quotes (a '>' may appear inside a value). Returns the position of the '>' (n if unterminated).
size_t read_attributes(const std::string& text, size_t i, XmlNode& node) {
  const size_t n = text.size();
  for (;;) {
    while (i < n && is_space(text[i])) ++i;
    if (i >= n || text[i] == '>' || text[i] == '/') {
      if (i < n && text[i] == '/' && i + 1 < n && text[i + 1] != '>') {
        ++i;  // a stray '/': skip it
        continue;
      }
      return i;
    }
    const size_t name_begin = i;
    while (i < n && !is_space(text[i]) && text[i] != '=' && text[i] != '>' && text[i] != '/') ++i;
    std::string name = local_name(text.substr(name_begin, i - name_begin));
    while (i < n && is_space(text[i])) ++i;
    if (i >= n || text[i] != '=') {  // an attribute without a value: keep the name
      if (!name.empty()) node.attributes.emplace_back(std::move(name), std::string());
      if (i < n && text[i] != '>' && text[i] != '/') ++i;
      continue;
    }
    ++i;
    while (i < n && is_space(text[i])) ++i;
    if (i >= n) return n;
    if (text[i] != '"' && text[i] != '\'') {  // unquoted value: up to space or '>'
      const size_t b = i;
      while (i < n && !is_space(text[i]) && text[i] != '>') ++i;
      node.attributes.emplace_back(std::move(name), decode_entities(text.substr(b, i - b)));
      continue;
    }
    const char quote = text[i++];
    const size_t e = text.find(quote, i);
    if (e == std::string::npos) return n;
    node.attributes.emplace_back(std::move(name), decode_entities(text.substr(i, e - i)));
    i = e + 1;
  }
}

}  // namespace

std::optional<std::string> XmlNode::attribute(const std::string& n) const {
  for (const auto& [k, v] : attributes)
    if (k == n) return v;
  return std::nullopt;
}

const XmlNode* XmlNode::child(const std::string& n) const {
  for (const auto& c : children)
    if (c.name == n) return &c;
  return nullptr;
}

std::vector<const XmlNode*> XmlNode::children_named(const std::string& n) const {
  std::vector<const XmlNode*> out;
  for (const auto& c : children)
    if (c.name == n) out.push_back(&c);
  return out;
}

std::string XmlNode::child_text(const std::string& n) const {
  const XmlNode* c = child(n);
  return c ? c->text : std::string();
}

std::string decode_entities(const std::string& s) {
  if (s.find('&') == std::string::npos) return s;
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    const auto semi = s.find(';', i);
    if (semi == std::string::npos || semi - i > 12) {
      out.push_back('&');
      continue;
    }
    const std::string ent = s.substr(i + 1, semi - i - 1);
    bool ok = true;
    if (ent == "amp") out.push_back('&');
    else if (ent == "lt") out.push_back('<');
    else if (ent == "gt") out.push_back('>');
    else if (ent == "quot") out.push_back('"');
    else if (ent == "apos") out.push_back('\'');
    else if (ent.size() > 1 && ent[0] == '#') {
      const bool hex = ent[1] == 'x' || ent[1] == 'X';
      const std::string digits = ent.substr(hex ? 2 : 1);
      char* end = nullptr;
      const unsigned long cp = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
      ok = !digits.empty() && end && *end == '\0' && cp <= 0x10FFFF;
      if (ok) append_utf8(out, cp);
    } else {
      ok = false;
    }
    if (!ok) {
      out.push_back('&');  // unknown entity: keep the text as it came
      continue;
    }
    i = semi;
  }
  return out;
}

std::string escape_xml(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

Result<XmlNode> parse_xml(const std::string& text) {
  std::vector<XmlNode> stack;
  std::optional<XmlNode> root;
  const size_t n = text.size();
  size_t pos = 0;
  auto fail = [&](const std::string& why) {
    return Status(Code::kIo, "malformed XML (" + why + "): " + excerpt(text));
  };
  auto close_node = [&](XmlNode node) {
    if (stack.empty()) {
      if (!root) root = std::move(node);
    } else {
      stack.back().children.push_back(std::move(node));
    }
  };
  while (pos < n) {
    if (text[pos] != '<') {
      const size_t lt = text.find('<', pos);
      const size_t end = lt == std::string::npos ? n : lt;
      if (!stack.empty()) stack.back().text += decode_entities(text.substr(pos, end - pos));
      pos = end;
      continue;
    }
    if (text.compare(pos, 4, "<!--") == 0) {
      const size_t e = text.find("-->", pos + 4);
      if (e == std::string::npos) return fail("unterminated comment");
      pos = e + 3;
    } else if (text.compare(pos, 9, "<![CDATA[") == 0) {
      const size_t e = text.find("]]>", pos + 9);
      if (e == std::string::npos) return fail("unterminated CDATA");
      if (!stack.empty()) stack.back().text += text.substr(pos + 9, e - pos - 9);
      pos = e + 3;
    } else if (text.compare(pos, 2, "<?") == 0) {
      const size_t e = text.find("?>", pos + 2);
      if (e == std::string::npos) return fail("unterminated processing instruction");
      pos = e + 2;
    } else if (text.compare(pos, 2, "<!") == 0) {  // DOCTYPE, possibly with an internal subset
      const size_t gt = text.find('>', pos);
      const size_t br = text.find('[', pos);
      size_t e = gt;
      if (br != std::string::npos && gt != std::string::npos && br < gt) e = text.find("]>", br);
      if (e == std::string::npos) return fail("unterminated declaration");
      pos = text.find('>', e) + 1;
    } else if (text.compare(pos, 2, "</") == 0) {
      const size_t gt = text.find('>', pos);
      if (gt == std::string::npos) return fail("unterminated end tag");
      std::string name = text.substr(pos + 2, gt - pos - 2);
      while (!name.empty() && is_space(name.back())) name.pop_back();
      name = local_name(name);
      pos = gt + 1;
      if (stack.empty()) return fail("unexpected end tag </" + name + ">");
      // Tolerate unclosed inner elements: close them up to the matching start tag.
      size_t match = stack.size();
      while (match > 0 && stack[match - 1].name != name) --match;
      if (match == 0) return fail("end tag </" + name + "> without start tag");
      while (stack.size() >= match) {
        XmlNode node = std::move(stack.back());
        stack.pop_back();
        close_node(std::move(node));
      }
    } else {
      size_t i = pos + 1;
      while (i < n && !is_space(text[i]) && text[i] != '>' && text[i] != '/') ++i;
      XmlNode node;
      node.name = local_name(text.substr(pos + 1, i - pos - 1));
      if (node.name.empty()) return fail("empty element name");
      i = read_attributes(text, i, node);
      const bool self_closing = i < n && text[i] == '/';
      if (self_closing) ++i;
      if (i >= n || text[i] != '>') return fail("unterminated start tag <" + node.name + ">");
      pos = i + 1;
      if (self_closing) {
        close_node(std::move(node));
      } else {
        // The tree's destructor recurses once per level, however iterative the parsing is (a
        // 200,000-deep body overflowed the stack under ASan); services nest a handful of levels.
        if (stack.size() >= kMaxXmlDepth)
          return fail("elements nested deeper than " + std::to_string(kMaxXmlDepth) + " levels");
        stack.push_back(std::move(node));
      }
    }
  }
  if (!stack.empty()) return fail("truncated document, <" + stack.back().name + "> not closed");
  if (!root) return fail("no root element");
  return std::move(*root);
}

}  // namespace arraymorph::net
