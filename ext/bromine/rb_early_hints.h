// rack.early_hints: Bromine::Native::EarlyHints, which sends a 103 Early Hints response ahead of
// the app's answer.
#pragma once

#include <ruby.h>

namespace bromine::ruby {

// Defines Bromine::Native::EarlyHints. Once, at load.
void init_early_hints(VALUE native_module);

// A new EarlyHints object that sends hints for the request the thread of `worker` (its
// Bromine::Native::Worker) is handling. GVL held.
VALUE new_early_hints(VALUE worker);

} // namespace bromine::ruby
