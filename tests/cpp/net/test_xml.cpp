// test_xml.cpp -- the one XML reader (src/net/xml): entities, prolog, attributes, namespaces,
// malformed input, and nesting deep enough to overflow a recursive reader.
#include <doctest/doctest.h>

#include "net/xml.hpp"

using namespace arraymorph;
using namespace arraymorph::net;

TEST_CASE("entities: predefined, decimal, hex, unknown kept") {
  CHECK(decode_entities("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;") == "a & b <c> \"d\" 'e'");
  CHECK(decode_entities("&#65;&#x42;&#x20AC;") == "AB\xE2\x82\xAC");
  CHECK(decode_entities("&nbsp; & x") == "&nbsp; & x");
  CHECK(escape_xml("<a&'\">") == "&lt;a&amp;&apos;&quot;&gt;");
}

TEST_CASE("parse_xml: prolog, comments, CDATA, attributes, namespaces, self-closing") {
  auto doc = parse_xml(
      "<?xml version=\"1.0\"?>\n<!DOCTYPE x>\n<!-- c --><s3:Root xmlns:s3=\"u\" a='1>2'>"
      "<A>x&amp;y</A><B/><C><![CDATA[<raw>&amp;]]></C><A>second</A></s3:Root>");
  REQUIRE(doc.ok());
  CHECK(doc->name == "Root");
  CHECK(doc->child_text("A") == "x&y");
  CHECK(doc->children_named("A").size() == 2);
  REQUIRE(doc->child("B") != nullptr);
  CHECK(doc->child("B")->text.empty());
  CHECK(doc->child_text("C") == "<raw>&amp;");
  CHECK(doc->child_text("Missing").empty());
}

TEST_CASE("parse_xml: malformed input is an error, never a crash") {
  CHECK_FALSE(parse_xml("").ok());
  CHECK_FALSE(parse_xml("not xml").ok());
  CHECK_FALSE(parse_xml("<a><b></a").ok());
  CHECK_FALSE(parse_xml("<a").ok());
  CHECK_FALSE(parse_xml("</a>").ok());
  auto r = parse_xml("<a><b>");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kIo);
  CHECK(r.status().message().find("not closed") != std::string::npos);
  // An unclosed inner element is tolerated when the outer one closes.
  auto t = parse_xml("<a><b>text</a>");
  REQUIRE(t.ok());
  CHECK(t->child_text("b") == "text");
}

TEST_CASE("xml reader: attributes, CDATA, comments, self-closing elements") {
  auto doc = parse_xml("<?xml version='1.0'?><!-- c --><r a='1' b=\"x &amp; y\"><s/>"
                       "<t><![CDATA[<raw>]]></t><!-- inner --><u>v</u></r>");
  REQUIRE(doc.ok());
  CHECK(doc->name == "r");
  CHECK(doc->attribute("a").value() == "1");
  CHECK(doc->attribute("b").value() == "x & y");
  CHECK_FALSE(doc->attribute("z").has_value());
  REQUIRE(doc->children.size() == 3);
  CHECK(doc->child_text("t") == "<raw>");
  CHECK(doc->child_text("u") == "v");
  CHECK(doc->child("s") != nullptr);
  CHECK(doc->child("missing") == nullptr);
  auto none = parse_xml("no xml here");
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message().find("no root element") != std::string::npos);
}

TEST_CASE("deeply nested input neither recurses nor crashes") {
  std::string deep;
  for (int i = 0; i < 200000; ++i) deep += "<a>";
  for (int i = 0; i < 200000; ++i) deep += "</a>";
  auto doc = parse_xml(deep);  // refused: the tree's destructor would recurse 200,000 levels
  REQUIRE_FALSE(doc.ok());
  CHECK(doc.status().message().find("nested deeper than 256 levels") != std::string::npos);
  std::string ok_depth;
  for (size_t i = 0; i < kMaxXmlDepth; ++i) ok_depth += "<a>";
  for (size_t i = 0; i < kMaxXmlDepth; ++i) ok_depth += "</a>";
  CHECK(parse_xml(ok_depth).ok());
  CHECK(escape_xml("a<&>\"'") == "a&lt;&amp;&gt;&quot;&apos;");
}
