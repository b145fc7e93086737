#include "tests/support/peer_test_util.h"

#include "core/peers/peer_rules.h"

namespace dnnf::test {

Tensor filled_tensor(const Shape& shape, float v, int64_t period) {
  Tensor t(DType::F32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = v + 0.01f * float(i % period);
  return t;
}

peers::Emulation emulate_peer(const Model& model, const std::string& peer) {
  return peers::emulate(model, *peers::find_peer_table(peer));
}

int64_t rule_hits(const peers::Emulation& e, const std::string& rule) {
  auto it = e.rule_hits.find(rule);
  return it == e.rule_hits.end() ? 0 : it->second;
}

}  // namespace dnnf::test
