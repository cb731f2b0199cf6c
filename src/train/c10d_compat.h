// The differences between LibTorch 1.13's c10d and 2.x's, in one place (included only by
// train/data_parallel.cpp, and only when CMake found the Gloo headers: K2K_HAVE_GLOO).
#pragma once

#include <torch/version.h>

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(USE_C10D_NCCL)
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace k2k::c10d_compat {

// 1.13: ProcessGroupGloo / ProcessGroupNCCL derive from c10d::ProcessGroup, and their Options from
// ProcessGroup::Options. 2.x: they derive from c10d::Backend (the ProcessGroup became a
// dispatcher over backends), Options from Backend::Options. Both declare allreduce / broadcast /
// barrier with the same signatures, returning c10::intrusive_ptr<c10d::Work> (1.13 already has
// c10d::Work in Work.hpp; ProcessGroup::Work is the older alias).
#if TORCH_VERSION_MAJOR >= 2
using Backend = ::c10d::Backend;
#else
using Backend = ::c10d::ProcessGroup;
#endif
using Work = ::c10d::Work;

// A Gloo group on `store`; its transport device binds to `hostname` (127.0.0.1: loopback only).
inline c10::intrusive_ptr<Backend> make_gloo(const c10::intrusive_ptr<::c10d::Store>& store, int rank, int size,
                                             const std::string& hostname, std::chrono::milliseconds timeout) {
    auto options = ::c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(hostname.empty() ? ::c10d::ProcessGroupGloo::createDefaultDevice()
                                                : ::c10d::ProcessGroupGloo::createDeviceForHostname(hostname));
    return c10::make_intrusive<::c10d::ProcessGroupGloo>(store, rank, size, options);
}

#if defined(USE_C10D_NCCL)
inline c10::intrusive_ptr<Backend> make_nccl(const c10::intrusive_ptr<::c10d::Store>& store, int rank, int size,
                                             std::chrono::milliseconds timeout) {
    auto options = ::c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    return c10::make_intrusive<::c10d::ProcessGroupNCCL>(store, rank, size, options);
}
#endif

}  // namespace k2k::c10d_compat
