/* engine_decode - see engine_decode.h. */
#include "scand/engine_decode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/content_decode.h"
#include "lib/spoolfile.h"
#include "proto/scanreq.h"

#include "scand/engine.h"

/* tmp_dir - the decoded copy lives with libclamav's own temporary files,
 * inside tmpdir (issue 10, item 13); TMPDIR only where scand was started
 * without one (the benchmark). */
static const char *tmp_dir(void)
{
    const char *ours = engine_tmpdir_path();
    if (ours[0])
        return ours;
    const char *d = getenv("TMPDIR");
    return d && d[0] == '/' ? d : "/tmp";
}

int engine_decode(int fd, unsigned encoding, uint64_t max_out, char *why, size_t whycap)
{
    if ((encoding & 0xfu) == SCANREQ_ENC_UNDECODABLE) {
        snprintf(why, whycap, "content coding that cannot be decoded");
        return -1;
    }
    int in = fd;
    for (unsigned layer = 0; layer < SCANREQ_ENC_LAYERS; layer++) {
        unsigned c = (encoding >> (4 * layer)) & 0xfu;
        if (c == 0)
            break;
        int out = spoolfile_create(tmp_dir());
        if (out < 0) {
            snprintf(why, whycap, "cannot create a decode file in %s: %s", tmp_dir(),
                     strerror(errno));
            if (in != fd)
                close(in);
            return -1;
        }
        uint64_t written = 0;
        enum cdec_result r = cdec_fd((enum cdec_coding)c, in, out, max_out, &written);
        if (in != fd)
            close(in);
        if (r != CDEC_OK) {
            snprintf(why, whycap, "%s: %s after %llu bytes", cdec_coding_name((enum cdec_coding)c),
                     cdec_result_name(r), (unsigned long long)written);
            close(out);
            return -1;
        }
        in = out;
    }
    return in;
}
