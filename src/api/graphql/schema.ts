import {
  type ASTNode,
  type ASTVisitor,
  GraphQLEnumType,
  GraphQLError,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  Kind,
  type ValidationContext,
} from 'graphql';
import {
  AGG_DIMENSIONS,
  type AggregateResult,
  aggregateEvents,
  type Bucket,
} from '../../domain/analytics/aggregate.ts';
import type { Ctx } from '../../domain/context.ts';
import type { RawCondition } from '../../domain/events/search.ts';

/** Limits that keep one GraphQL request cheap. */
export const MAX_DEPTH = 6;
export const MAX_FIELDS = 300;
export const MAX_AGGREGATES = 10;

const Dimension = new GraphQLEnumType({
  name: 'Dimension',
  description: 'An event column to group by; list columns (tags, mitreAttack) count each element.',
  values: Object.fromEntries(AGG_DIMENSIONS.map((d) => [d, { value: d }])),
});

const Interval = new GraphQLEnumType({
  name: 'Interval',
  description: 'Date buckets: days, ISO weeks (starting Monday) or calendar months (UTC).',
  values: { day: { value: 'day' }, week: { value: 'week' }, month: { value: 'month' } },
});

const Filter = new GraphQLInputObjectType({
  name: 'Filter',
  description: 'A search condition, as on GET /events (field, op, value; several values for op "in").',
  fields: {
    field: { type: new GraphQLNonNull(GraphQLString) },
    op: { type: new GraphQLNonNull(GraphQLString) },
    value: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(GraphQLString))) },
  },
});

interface GroupSource {
  row: Record<string, unknown>;
  by: string[];
}

const GroupValue = new GraphQLObjectType<{ dimension: string; value: unknown }>({
  name: 'GroupValue',
  fields: {
    dimension: { type: new GraphQLNonNull(Dimension) },
    value: {
      type: GraphQLString,
      resolve: (v) => (v.value === null || v.value === undefined ? null : String(v.value)),
    },
  },
});

const Group = new GraphQLObjectType<GroupSource>({
  name: 'Group',
  description: 'One group: its values, its date bucket when an interval was asked, and its exact count.',
  fields: () => ({
    count: { type: new GraphQLNonNull(GraphQLInt), resolve: (g) => g.row.count },
    date: {
      type: GraphQLString,
      description: 'First day of the bucket (YYYY-MM-DD)',
      resolve: (g) => g.row.date ?? null,
    },
    values: {
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(GroupValue))),
      resolve: (g) => g.by.map((d) => ({ dimension: d, value: g.row[d] })),
    },
    ...Object.fromEntries(
      AGG_DIMENSIONS.map((d) => [
        d,
        {
          type: d === 'killChain' ? GraphQLInt : GraphQLString,
          description: `The group's ${d} (null when not grouped by it or empty)`,
          resolve: (g: GroupSource) => (g.row[d] === undefined ? null : g.row[d]),
        },
      ]),
    ),
  }),
});

const Aggregation = new GraphQLObjectType<AggregateResult & { by: string[] }>({
  name: 'Aggregation',
  fields: {
    total: { type: new GraphQLNonNull(GraphQLInt), description: 'Events aggregated' },
    groupCount: { type: new GraphQLNonNull(GraphQLInt), description: 'Groups before limit' },
    startDate: { type: GraphQLString, resolve: (a) => a.dateRange.startDate ?? null },
    endDate: { type: GraphQLString, resolve: (a) => a.dateRange.endDate ?? null },
    groups: {
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(Group))),
      resolve: (a) => a.aggregations.map((row) => ({ row, by: a.by })),
    },
  },
});

/** The GraphQL schema of E13/E14; resolvers call the same domain function as GET /events/aggregate. */
export const schema = new GraphQLSchema({
  query: new GraphQLObjectType<unknown, Ctx>({
    name: 'Query',
    fields: {
      aggregate: {
        type: new GraphQLNonNull(Aggregation),
        description: 'Exact event counts grouped by one or more dimensions, optionally per date bucket.',
        args: {
          groupBy: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(Dimension))) },
          datasetIds: {
            type: new GraphQLList(new GraphQLNonNull(GraphQLString)),
            description: 'Dataset uuids or one scope; default dataset',
          },
          startDate: { type: GraphQLString, description: 'ISO 8601, inclusive' },
          endDate: { type: GraphQLString, description: 'ISO 8601; a date includes the whole day' },
          interval: { type: Interval },
          filters: { type: new GraphQLList(new GraphQLNonNull(Filter)) },
          limit: { type: GraphQLInt, description: 'Top N groups by count (default 1000)' },
        },
        resolve: async (_root, args: Record<string, unknown>, ctx) => {
          const filters =
            (args.filters as { field: string; op: string; value: string[] }[] | undefined) ?? [];
          const search: RawCondition[] = filters.map((f) => ({
            field: f.field,
            op: f.op,
            value: f.op === 'in' ? f.value : f.value[0],
          }));
          const by = args.groupBy as string[];
          const result = await aggregateEvents(ctx, {
            aggregateBy: by,
            datasetIds: args.datasetIds as string[] | undefined,
            startDate: (args.startDate as string | null) ?? undefined,
            endDate: (args.endDate as string | null) ?? undefined,
            bucket: ((args.interval as string | null) ?? 'none') as Bucket,
            limit: (args.limit as number | null) ?? undefined,
            search,
          });
          return { ...result, by };
        },
      },
      dimensions: {
        type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(Dimension))),
        description: 'Every dimension that can be grouped by.',
        resolve: () => [...AGG_DIMENSIONS],
      },
    },
  }),
});

/**
 * Introspection (fields and fragments on `__` types) may nest deeper: the standard introspection
 * query of graphql-js and GraphQL tools nests `ofType` ten levels down.
 */
export const MAX_INTROSPECTION_DEPTH = 20;

/** Refuses queries nested deeper than MAX_DEPTH, with more than MAX_FIELDS fields, or MAX_AGGREGATES aggregates. */
export function costLimits(context: ValidationContext): ASTVisitor {
  let depth = 0;
  let fields = 0;
  let aggregates = 0;
  /** The introspection field or fragment being visited, if any. */
  let introspection: ASTNode | undefined;
  return {
    FragmentDefinition: {
      enter(node) {
        if (node.typeCondition.name.value.startsWith('__')) introspection = node;
      },
      leave(node) {
        if (introspection === node) introspection = undefined;
      },
    },
    SelectionSet: {
      enter() {
        depth++;
        const limit = introspection ? MAX_INTROSPECTION_DEPTH : MAX_DEPTH;
        if (depth > limit)
          context.reportError(new GraphQLError(`query is nested deeper than ${limit} levels`));
      },
      leave() {
        depth--;
      },
    },
    Field: {
      enter(node) {
        fields++;
        if (!introspection && node.name.value.startsWith('__')) introspection = node;
        if (node.name.value === 'aggregate') aggregates++;
        if (fields === MAX_FIELDS + 1)
          context.reportError(new GraphQLError(`query selects more than ${MAX_FIELDS} fields`));
        if (aggregates === MAX_AGGREGATES + 1 && node.kind === Kind.FIELD) {
          context.reportError(new GraphQLError(`query asks for more than ${MAX_AGGREGATES} aggregates`));
        }
      },
      leave(node) {
        if (introspection === node) introspection = undefined;
      },
    },
  };
}
