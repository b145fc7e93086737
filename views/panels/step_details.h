// The text of the steps panel: what one journal step did and why, as HTML (rule or
// decision, the two mapping types and the table verdict, reason, costs, profile).
#pragma once

#include <QString>

#include "core/journal/journal.h"

namespace dnnf::views {

QString step_details_html(const JournalStep* step, size_t position, size_t positions);
// One line for the timeline label: "12/320 · rewrite · gelu-from-erf".
QString step_title(const JournalStep* step, size_t position, size_t positions);

}  // namespace dnnf::views
