// A generated function's body (codegen/emit_context.h): statements added as text become
// one line each and render at the indent asked for.
#include <gtest/gtest.h>

#include "core/codegen/emit_context.h"

namespace dnnf::codegen {
namespace {

TEST(CodegenBody, TextBecomesOneLinePerNewlineAndRendersIndented) {
  Body body;
  body.lines.push_back("int a = 0;");
  body.add_text("for (;;) {\n  a += 1;\n}\n");
  body.add_text("return a;");  // no final newline: still a whole line
  EXPECT_EQ(body.lines, (std::vector<std::string>{"int a = 0;", "for (;;) {", "  a += 1;", "}", "return a;"}));
  EXPECT_EQ(body.render(2), "  int a = 0;\n  for (;;) {\n    a += 1;\n  }\n  return a;\n");
}

TEST(CodegenBody, EmptyLinesAreKeptAndEmptyTextAddsNothing) {
  Body body;
  body.add_text("");
  EXPECT_TRUE(body.lines.empty());
  body.add_text("x;\n\ny;\n");
  EXPECT_EQ(body.lines, (std::vector<std::string>{"x;", "", "y;"}));
}

}  // namespace
}  // namespace dnnf::codegen
