// Bromine::Native::Metrics: the metrics slots a server counts into (shared with forked workers),
// the exporter that serves them, and the log line of a request refused for a limit.
#pragma once

#include "bromine/limit_exceeded.h"
#include "bromine/metrics.h"

#include <memory>
#include <ruby.h>

namespace bromine::ruby {

// Defines the class under `native_module`. Once, at load.
void init_metrics(VALUE native_module);

// The slots of a Bromine::Native::Metrics (TypeError for anything else). The block lives as long
// as its last owner, so a server may keep it past the Ruby object.
std::shared_ptr<MetricsBlock> metrics_block_of(VALUE metrics);

// Writes one line on stderr saying which limit a refused request passed and which option raises
// it. Loop thread; needs no GVL.
void log_limit_exceeded(const LimitExceeded& event);

} // namespace bromine::ruby
