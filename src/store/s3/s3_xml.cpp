// s3_xml.cpp -- tolerant XML reader and the S3 documents built on it (see s3_xml.hpp).
#include "store/s3/s3_xml.hpp"

#include <cstdlib>

namespace arraymorph::s3 {

namespace {

std::string excerpt(const std::string& s) {
  std::string e = s.substr(0, 120);
  for (auto& c : e)
    if (c == '\n' || c == '\r') c = ' ';
  return e;
}

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

uint64_t to_u64(const std::string& s) { return std::strtoull(s.c_str(), nullptr, 10); }

std::string strip_quotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

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
    return Status(Code::kIo, "malformed XML from S3 (" + why + "): " + excerpt(text));
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
      // Skip attributes, honouring quotes (a '>' may appear inside a value).
      char quote = 0;
      while (i < n && (quote || text[i] != '>')) {
        if (quote) {
          if (text[i] == quote) quote = 0;
        } else if (text[i] == '"' || text[i] == '\'') {
          quote = text[i];
        }
        ++i;
      }
      if (i >= n) return fail("unterminated start tag <" + node.name + ">");
      const bool self_closing = text[i - 1] == '/';
      pos = i + 1;
      if (self_closing) close_node(std::move(node));
      else stack.push_back(std::move(node));
    }
  }
  if (!stack.empty()) return fail("truncated document, <" + stack.back().name + "> not closed");
  if (!root) return fail("no root element");
  return std::move(*root);
}

Result<ListObjectsResult> parse_list_objects_v2(const std::string& body) {
  auto doc = parse_xml(body);
  if (!doc.ok()) return doc.status();
  if (doc->name != "ListBucketResult")
    return Status(Code::kIo, "unexpected S3 listing response <" + doc->name + ">: " + excerpt(body));
  ListObjectsResult out;
  for (const XmlNode* c : doc->children_named("Contents")) {
    ListedObject o;
    o.key = c->child_text("Key");
    o.size = to_u64(c->child_text("Size"));
    o.etag = strip_quotes(c->child_text("ETag"));
    out.objects.push_back(std::move(o));
  }
  for (const XmlNode* p : doc->children_named("CommonPrefixes")) {
    for (const XmlNode* q : p->children_named("Prefix")) out.common_prefixes.push_back(q->text);
  }
  out.is_truncated = doc->child_text("IsTruncated") == "true";
  out.next_continuation_token = doc->child_text("NextContinuationToken");
  if (out.is_truncated && out.next_continuation_token.empty())
    return Status(Code::kIo, "S3 listing is truncated but has no NextContinuationToken");
  return out;
}

S3ErrorInfo parse_error(const std::string& body) {
  S3ErrorInfo info;
  auto doc = parse_xml(body);
  if (!doc.ok()) return info;
  const XmlNode* err = doc->name == "Error" ? &*doc : doc->child("Error");
  if (!err) return info;
  info.code = err->child_text("Code");
  info.message = err->child_text("Message");
  info.bucket_name = err->child_text("BucketName");
  info.request_id = err->child_text("RequestId");
  return info;
}

Result<std::string> parse_initiate_multipart(const std::string& body) {
  auto doc = parse_xml(body);
  if (!doc.ok()) return doc.status();
  std::string id = doc->child_text("UploadId");
  if (id.empty()) return Status(Code::kIo, "S3 multipart upload started without an UploadId: " + excerpt(body));
  return id;
}

Result<DeleteObjectsResult> parse_delete_result(const std::string& body) {
  auto doc = parse_xml(body);
  if (!doc.ok()) return doc.status();
  if (doc->name != "DeleteResult")
    return Status(Code::kIo, "unexpected S3 delete response <" + doc->name + ">: " + excerpt(body));
  DeleteObjectsResult out;
  for (const XmlNode* d : doc->children_named("Deleted")) out.deleted.push_back(d->child_text("Key"));
  for (const XmlNode* e : doc->children_named("Error")) {
    out.errors.push_back({e->child_text("Key"), e->child_text("Code"), e->child_text("Message")});
  }
  return out;
}

std::string build_delete_request(const std::vector<std::string>& keys) {
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>";
  for (const auto& k : keys) x += "<Object><Key>" + escape_xml(k) + "</Key></Object>";
  x += "</Delete>";
  return x;
}

std::string build_complete_multipart(const std::vector<std::pair<int, std::string>>& parts) {
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& [number, etag] : parts) {
    x += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" + escape_xml(etag) +
         "</ETag></Part>";
  }
  x += "</CompleteMultipartUpload>";
  return x;
}

}  // namespace arraymorph::s3
