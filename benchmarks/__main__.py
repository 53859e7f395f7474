"""``python -m benchmarks``: the side-by-side throughput, CPU, start-up and memory benchmark."""

import sys

from benchmarks.run import main

sys.exit(main())
