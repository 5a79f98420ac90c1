import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CallAttempt, TaskRecord } from '../core/task-record.ts';
import { createOrRead, type Item, stripKeys } from './dynamo.ts';

/** Task records in the memory table: `TASK#<id>` / `TASK`. Created once, then updated field by field. */
export class TaskStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(doc: DynamoDBDocumentClient, options: { table: string }) {
    this.#doc = doc;
    this.#table = options.table;
  }

  putTaskIfAbsent(record: TaskRecord): Promise<TaskRecord | undefined> {
    return createOrRead(this.#doc, this.#table, { pk: `TASK#${record.taskId}`, sk: 'TASK', ...record }, () =>
      this.getTask(record.taskId),
    );
  }

  async getTask(taskId: string): Promise<TaskRecord | undefined> {
    const { Item } = await this.#doc.send(
      new GetCommand({
        TableName: this.#table,
        Key: { pk: `TASK#${taskId}`, sk: 'TASK' },
        ConsistentRead: true,
      }),
    );
    return Item ? stripKeys<TaskRecord>(Item) : undefined;
  }

  async deleteTask(taskId: string): Promise<void> {
    await this.#doc.send(
      new DeleteCommand({ TableName: this.#table, Key: { pk: `TASK#${taskId}`, sk: 'TASK' } }),
    );
  }

  /** Sets the given fields (an `undefined` field is removed). */
  async updateTask(taskId: string, patch: Partial<TaskRecord>): Promise<void> {
    const names: Record<string, string> = {};
    const values: Item = {};
    const sets: string[] = [];
    const removes: string[] = [];
    Object.entries(patch).forEach(([field, value], i) => {
      names[`#f${i}`] = field;
      if (value === undefined) {
        removes.push(`#f${i}`);
      } else {
        values[`:v${i}`] = value;
        sets.push(`#f${i} = :v${i}`);
      }
    });
    if (sets.length === 0 && removes.length === 0) return;
    await this.#doc.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: `TASK#${taskId}`, sk: 'TASK' },
        UpdateExpression: [
          sets.length ? `SET ${sets.join(', ')}` : '',
          removes.length ? `REMOVE ${removes.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join(' '),
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
      }),
    );
  }

  async appendAttempt(taskId: string, attempt: CallAttempt): Promise<void> {
    await this.#doc.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: `TASK#${taskId}`, sk: 'TASK' },
        UpdateExpression: 'SET attempts = list_append(if_not_exists(attempts, :empty), :one)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':empty': [], ':one': [attempt] },
      }),
    );
  }
}
