"""Label Studio round trip: labeling config, push, sync, agreement, routing."""
