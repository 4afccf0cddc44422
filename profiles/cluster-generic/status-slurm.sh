#!/bin/sh
# Job state for Snakemake's cluster-generic executor: prints running, success or failed.
#   status-slurm.sh JOBID
# squeue knows a finished job for MinJobAge (300 s by default) after it ends,
# and Snakemake asks every few seconds, so a job squeue no longer knows has
# been seen finishing or was lost: it counts as failed. A squeue that cannot
# reach the controller (a busy or restarting slurmctld) means "ask again".
state=$(squeue -h -t all -j "$1" -o %T 2>&1 | head -n 1)
case "$state" in
    COMPLETED) echo success ;;
    PENDING | RUNNING | CONFIGURING | COMPLETING | SUSPENDED | REQUEUED | REQUEUE_HOLD | RESIZING | SIGNALING | STAGE_OUT | STOPPED) echo running ;;
    *"Invalid job id"*) echo failed ;;
    *error*) echo running ;;
    *) echo failed ;;
esac
