# frozen_string_literal: true

# Builds lib/bromine/bromine.so from the binding (ext/bromine/*.cc), the C++ core
# (core/src/<subsystem>/*.cc) and llhttp's C sources, which Debian's node-llhttp package ships
# (compiled from there, not copied). The binding sees the core's public headers (core/include)
# only; the core's own sources also see its private ones (core/src).
require "mkmf"

ROOT = File.expand_path("../..", __dir__)
CORE_SRC = File.join(ROOT, "core", "src")
CORE_INCLUDE = File.join(ROOT, "core", "include")
LLHTTP_SRC = ENV.fetch("BROMINE_LLHTTP_SRC", "/usr/share/llhttp")
LLHTTP_INCLUDE = ENV.fetch("BROMINE_LLHTTP_INCLUDE", "/usr/share/include/llhttp")
LLHTTP_SOURCES = %w[llhttp.c api.c http.c].freeze

missing = LLHTTP_SOURCES.map { |name| File.join(LLHTTP_SRC, name) }
                        .push(File.join(LLHTTP_INCLUDE, "llhttp.h"))
                        .reject { |path| File.file?(path) }
unless missing.empty?
  abort "bromine: llhttp sources not found (#{missing.join(', ')}); " \
        "they come from Debian's node-llhttp package: run bin/setup"
end

binding_sources = Dir[File.join(__dir__, "*.cc")].sort
core_folders = Dir[File.join(CORE_SRC, "*")].select { |path| File.directory?(path) }.sort
core_sources = core_folders.flat_map { |folder| Dir[File.join(folder, "*.cc")] }.sort
llhttp_sources = LLHTTP_SOURCES.map { |name| File.join(LLHTTP_SRC, name) }
warn "bromine: no binding sources (ext/bromine/*.cc) yet" if binding_sources.empty?

# mkmf names each object after its source's base name, so no two sources may share one.
all_sources = binding_sources + core_sources + llhttp_sources
clashes = all_sources.group_by { |path| File.basename(path, ".*") }.values.select { |paths| paths.size > 1 }
unless clashes.empty?
  abort "bromine: sources share a base name, so their object files would collide (rename one): " +
        clashes.map { |paths| paths.join(" and ") }.join("; ")
end

abort "bromine: libcrypto not found (libssl-dev): run bin/setup" unless have_library("crypto")
abort "bromine: libpthread not found: run bin/setup" unless have_library("pthread")
unless have_library("z", "deflateInit2_", "zlib.h")
  abort "bromine: zlib not found (zlib1g-dev, for WebSocket compression): run bin/setup"
end
unless have_library("hiredis", "redisConnect", "hiredis/hiredis.h")
  abort "bromine: hiredis not found (libhiredis-dev, for --redis): run bin/setup"
end

$srcs = all_sources.map { |path| File.basename(path) }
$VPATH.concat(core_folders) << LLHTTP_SRC

# -MMD -MP: make rebuilds an object when a header it includes (core/include, core/src) changes.
# Ruby's and llhttp's headers are included as system headers: their warnings under -Wextra
# (unused parameters in Ruby's inline functions) are not ours and must not break -Werror.
$INCFLAGS = $INCFLAGS.gsub(/-I(\$\((?:arch_)?hdrdir\)\S*)/, '-isystem \1')
$INCFLAGS << " -I#{CORE_INCLUDE} -isystem #{LLHTTP_INCLUDE}"
$CPPFLAGS << " -MMD -MP"

werror = ENV.key?("BROMINE_WERROR") ? ENV["BROMINE_WERROR"] == "1" : ENV["CI"] == "true"
$CXXFLAGS << " -std=c++20 -Wall -Wextra -Wshadow -fvisibility=hidden -O2"
$CXXFLAGS << " -Werror" if werror
# llhttp is third-party generated C: compiled as C, its warnings are not ours to fix. It is
# compiled loose, as in core/CMakeLists.txt (which says why): the parser enforces strict framing.
$CFLAGS << " -fvisibility=hidden -O2 -w -DLLHTTP_STRICT_MODE=0"

$LIBS << " -lstdc++" # -lcrypto, -lpthread, -lz and -lhiredis were added by have_library

create_makefile("bromine/bromine")

core_objects = core_sources.map { |path| "#{File.basename(path, '.cc')}.o" }
File.open("Makefile", "a") do |makefile|
  makefile.puts "", "# The core's own sources include its private headers; the binding's don't."
  makefile.puts "#{core_objects.join(' ')}: INCFLAGS += -I#{CORE_SRC}"
  makefile.puts "", "# Header dependencies written by -MMD.", "-include $(OBJS:.o=.d)"
  makefile.puts "CLEANOBJS += $(OBJS:.o=.d)"
end
