#!/bin/sh
# A script copied into the guest with its executable bit.
echo "shown from $(pwd)"
