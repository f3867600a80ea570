#include <thread>

#include "gammarules_core.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
    m.doc() = "C++ kernels of gammarules (binning and likelihood loops)";
    m.def(
        "set_num_threads",
        [](int n) {
            if (n < 0) throw py::value_error("number of threads must be >= 0 (0: all cores)");
            gammarules::default_num_threads = n;
        },
        py::arg("n"), "Default number of threads of the kernels for large inputs (0: all cores).");
    m.def(
        "get_num_threads",
        [] {
            const int n = gammarules::default_num_threads;
            return n > 0 ? n : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        },
        "Number of threads the kernels use for large inputs when not told otherwise.");
    gammarules::register_stats(m);
    gammarules::register_binning(m);
}
