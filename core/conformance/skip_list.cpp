// The conformance skip list: every entry names why dnnf does not run those tests.
// Tests whose operators are missing from the registry are skipped automatically
// ("operator X is not supported"); this list covers the rest.
#include "core/conformance/conformance_runner.h"

namespace dnnf {

const std::vector<SkipRule>& conformance_skip_list() {
  static const std::vector<SkipRule> rules = {
      {"test_sequence_", false, "sequence-typed values are outside dnnf's tensor-only IR"},
      {"test_optional_", false, "optional-typed values are outside dnnf's tensor-only IR"},
      {"test_cast_FLOAT_to_BFLOAT16", true,
       "ONNX 1.12 expected data truncates float to bfloat16; dnnf rounds to nearest even as later ONNX specifies",
       "libonnx-testdata"},
      {"test_castlike_FLOAT_to_BFLOAT16", false,
       "ONNX 1.12 expected data truncates float to bfloat16; dnnf rounds to nearest even as later ONNX specifies",
       "libonnx-testdata"},
      {"test_castlike_BFLOAT16_to_FLOAT", false,
       "ONNX 1.12 test data gives input 'like' as shape [1] while its model declares float32[3,4]",
       "libonnx-testdata"},
      // Training-mode Dropout with a non-zero ratio draws a random mask that no other
      // implementation reproduces; the zero-ratio variants are deterministic and run.
      {"test_training_dropout", true, "training-mode Dropout draws a random mask the reference cannot reproduce", ""},
      {"test_training_dropout_default", true, "training-mode Dropout draws a random mask the reference cannot reproduce", ""},
      {"test_training_dropout_default_mask", true, "training-mode Dropout draws a random mask the reference cannot reproduce", ""},
      {"test_training_dropout_mask", true, "training-mode Dropout draws a random mask the reference cannot reproduce", ""},
  };
  return rules;
}

}  // namespace dnnf
