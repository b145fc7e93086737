// Build identifier of the kernels library (keeps the library non-empty on its own).
namespace dnnf::kernels {
const char* kernels_build_id() { return "dnnf-kernels"; }
}  // namespace dnnf::kernels
