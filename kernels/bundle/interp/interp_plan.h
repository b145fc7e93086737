// The interpreter plan of an export bundle (interp.txt): the graph nodes a bundle runs on
// dnnf's reference kernels rather than on generated code, because their shapes are known
// only at run time (NonZero, TopK, NMS in If subgraphs, Loop, RoiAlign, Gemm over a
// data-dependent number of boxes, ...). The target runtime (NEON or Vulkan) runs its
// generated steps and calls the interpreter for the others (host_interpreter.h).
//
// Compiled into dnnf (core/export/interp_plan_format.cpp: the exporter writes plans, the
// unit tests read them) and into the bundles that have interpreted steps, from the same
// source. It uses dnnf's IR (core/ir), which needs the C++20 standard library only.
//
// Line-based text, one record per line, tokens separated by one space:
//
//   dnnf-interp-plan 1
//   weights_bytes N                      size of weights.bin (checked at load)
//   weight NAME DTYPE OFFSET RANK D...   a constant the nodes read, at OFFSET in weights.bin
//   import NAME DTYPE RANK D...          a value the nodes read that the target computes
//                                        (a generated kernel's output or a model input)
//   graph NAME                           the interpreted nodes, in run order; then its lines
//     opset DOMAIN VERSION
//     input NAME TYPE                    (subgraphs: their formal inputs)
//     output NAME TYPE
//     type NAME TYPE                     inferred type of a value
//     init NAME TENSOR                   (subgraphs: their own constants, inline)
//     node ID OP DOMAIN NAME NIN IN... NOUT OUT... NATTR, then NATTR lines:
//     attr NAME f VALUE | i VALUE | s STRING | t TENSOR | floats N V... | ints N V... |
//          strings N S... | tensors N (then N lines "tensor TENSOR") | g (then a graph
//          block) | graphs N (then N graph blocks)
//   end                                  closes the innermost graph
//   step N NODE...                       one step of the target's plan: node indexes
//
// TYPE is "DTYPE -" (rank unknown) or "DTYPE RANK DIM..." with DIM a size or "?SYMBOL".
// TENSOR is "DTYPE RANK D... HEX" (the raw little-endian bytes; "~" when there are none),
// or "string RANK D... S..." (one string per element). Floats are written with 9
// significant digits (exact for float32). Strings (names, symbols, ...) are
// percent-encoded: anything but [A-Za-z0-9_.:/-] as %XX, the empty string as "~".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/graph.h"

namespace dnnf_bundle {

constexpr int kInterpPlanVersion = 1;

struct InterpWeight {
  std::string name;
  dnnf::DType dtype = dnnf::DType::F32;
  dnnf::Shape shape;
  uint64_t offset = 0;  // bytes into weights.bin
};

struct InterpImport {
  std::string name;
  dnnf::DType dtype = dnnf::DType::F32;
  dnnf::Shape shape;  // static: the target holds it in a fixed-size buffer
};

struct InterpPlan {
  uint64_t weights_bytes = 0;
  std::vector<InterpWeight> weights;
  std::vector<InterpImport> imports;
  dnnf::Graph graph;                         // no top-level initializers: see weights
  std::vector<std::vector<uint32_t>> steps;  // indexes into graph.nodes, in run order
};

// The text above; deterministic (same plan, same bytes).
std::string write_interp_plan(const InterpPlan& plan);

// Parses and validates (known dtypes and operators' attribute kinds, step node indexes
// in range, weights inside weights_bytes). Throws dnnf::Error "interp.txt line N: ...".
InterpPlan read_interp_plan(const std::string& text);

}  // namespace dnnf_bundle
