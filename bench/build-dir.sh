# shellcheck shell=bash disable=SC2034 # BIN, BUILD_GIT are used by the sourcing script
# build-dir.sh - sourced by the bench scripts: which build they measure.
#
# Sets, from BUILD (or SEKISHO_BUILD, as the integration tests spell it;
# default build), relative to the repository or absolute:
#   BUILD_DIR   the build directory (holds bin/)
#   BIN         $BUILD_DIR/bin
#   BUILD_TREE  the git work tree the build directory belongs to (its
#               conf/ templates go with its binaries); the repository when
#               the build directory is not inside a work tree
#   BUILD_GIT   short commit of that tree, "+local changes in src/" when
#               its src/ differs from the commit
# A build of another commit is measured with the scripts of this one, e.g.
#   git worktree add /tmp/before <commit> && make -C /tmp/before -j2
#   BUILD=/tmp/before/build bench/smtp.sh
# Needs REPO (the repository holding bench/).
BUILD=${BUILD:-${SEKISHO_BUILD:-build}}
case $BUILD in
/*) BUILD_DIR=$BUILD ;;
*) BUILD_DIR=$REPO/$BUILD ;;
esac
BIN=$BUILD_DIR/bin
BUILD_TREE=$(git -C "$BUILD_DIR/.." rev-parse --show-toplevel 2>/dev/null || echo "$REPO")
BUILD_GIT=$(git -C "$BUILD_TREE" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$BUILD_TREE" diff --quiet HEAD -- src 2>/dev/null &&
    [ -z "$(git -C "$BUILD_TREE" ls-files --others --exclude-standard -- src 2>/dev/null)" ] ||
    BUILD_GIT="$BUILD_GIT+local changes in src/"
