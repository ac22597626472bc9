"""Long-running health of the local stack: the live soak command and the compressed soak."""
