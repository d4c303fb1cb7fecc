/** Shard ids are `<dataset uuid>.<ordinal>`: one module owns the format. */
export function shardIdFor(datasetId: string, ordinal: number): string {
  return `${datasetId}.${ordinal}`;
}

/** The dataset a shard belongs to. */
export function datasetOfShard(shardId: string): string {
  const dot = shardId.lastIndexOf('.');
  return dot < 0 ? shardId : shardId.slice(0, dot);
}
