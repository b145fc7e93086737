// Runs the session's fusion plan on the CPU backend with seeded random inputs and
// returns the measured time of every block (plan order, microseconds, median of runs):
// the data of the latency overlay.
#pragma once

#include <vector>

#include "views/jobs/job_control.h"
#include "views/session/studio_session.h"

namespace dnnf::views {

std::vector<double> profile_blocks(const StudioSession& session, const JobControl& job, int runs = 5);

}  // namespace dnnf::views
