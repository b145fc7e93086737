#include "core/fusion/mapping_table.h"

#include "core/util/error.h"

namespace dnnf::fusion {

namespace {
using M = MappingType;
constexpr Verdict G = Verdict::Fuse, Y = Verdict::Profile, R = Verdict::Break;
}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::Fuse: return "fuse";
    case Verdict::Profile: return "profile";
    case Verdict::Break: return "break";
  }
  return "?";
}

// Rows: first operator; columns: second. Colours rebuilt from the paper's prose and
// its count of 23 code-generation rules (exactly two red cells); see
// shared/docs/dnnfusion.md section 3. One-to-Many -> One-to-Many is assumed yellow.
const std::vector<FusionCell>& fusion_table() {
  static const std::vector<FusionCell> cells = {
      {M::OneToOne, M::OneToOne, M::OneToOne, G, "index maps compose 1-1; no copies, few registers"},
      {M::OneToOne, M::OneToMany, M::OneToMany, G, "One-to-One takes its partner's type"},
      {M::OneToOne, M::ManyToMany, M::ManyToMany, G, "One-to-One becomes the Many-to-Many op's prologue"},
      {M::OneToOne, M::Reorganize, M::Reorganize, G, "One-to-One takes its partner's type"},
      {M::OneToOne, M::Shuffle, M::Shuffle, G, "One-to-One takes its partner's type"},

      {M::OneToMany, M::OneToOne, M::OneToMany, G, "One-to-One becomes the epilogue of the broadcast"},
      {M::OneToMany, M::OneToMany, M::OneToMany, Y, "stacked broadcasts may recompute; measure"},
      {M::OneToMany, M::ManyToMany, M::ManyToMany, R, "e.g. Expand then Conv: Conv wants contiguous input reads"},
      {M::OneToMany, M::Reorganize, M::OneToMany, Y, "re-indexing a broadcast may lose contiguity; measure"},
      {M::OneToMany, M::Shuffle, M::OneToMany, Y, "e.g. Expand + Transpose can lose contiguous access; measure"},

      {M::ManyToMany, M::OneToOne, M::ManyToMany, G, "One-to-One becomes the epilogue (e.g. GEMM + Add)"},
      {M::ManyToMany, M::OneToMany, M::ManyToMany, Y, "Conv + Expand may be fine, Conv + Resize may hurt; measure"},
      {M::ManyToMany, M::ManyToMany, M::ManyToMany, R, "e.g. Conv then Conv: too complex, hurts registers and cache"},
      {M::ManyToMany, M::Reorganize, M::ManyToMany, Y, "write through a re-index; may change access order; measure"},
      {M::ManyToMany, M::Shuffle, M::ManyToMany, Y, "write through a permutation (GEMM + Transpose); measure"},

      {M::Reorganize, M::OneToOne, M::Reorganize, G, "One-to-One takes its partner's type"},
      {M::Reorganize, M::OneToMany, M::OneToMany, Y, "re-indexed input to a broadcast; measure"},
      {M::Reorganize, M::ManyToMany, M::ManyToMany, Y, "re-indexed operand of a Many-to-Many op; measure"},
      {M::Reorganize, M::Reorganize, M::Reorganize, G, "two re-indexings compose into one"},
      {M::Reorganize, M::Shuffle, M::Reorganize, G, "re-index and permutation compose into a re-index"},

      {M::Shuffle, M::OneToOne, M::Shuffle, G, "One-to-One takes its partner's type"},
      {M::Shuffle, M::OneToMany, M::OneToMany, Y, "permuted input to a broadcast; measure"},
      {M::Shuffle, M::ManyToMany, M::ManyToMany, Y, "permuted operand of a Many-to-Many op; measure"},
      {M::Shuffle, M::Reorganize, M::Reorganize, G, "permutation and re-index compose into a re-index"},
      {M::Shuffle, M::Shuffle, M::Shuffle, G, "two permutations compose into one"},
  };
  return cells;
}

const FusionCell& fusion_cell(MappingType first, MappingType second) {
  for (const FusionCell& c : fusion_table())
    if (c.first == first && c.second == second) return c;
  fail("fusion table has no cell for ", mapping_type_name(first), " x ", mapping_type_name(second));
}

nlohmann::json fusion_table_json() {
  nlohmann::json cells = nlohmann::json::array();
  for (const FusionCell& c : fusion_table())
    cells.push_back({{"first", mapping_type_name(c.first)},
                     {"second", mapping_type_name(c.second)},
                     {"fused", c.verdict == Verdict::Break ? "" : mapping_type_name(c.fused)},
                     {"verdict", verdict_name(c.verdict)},
                     {"why", c.why}});
  return {{"cells", cells}};
}

}  // namespace dnnf::fusion
