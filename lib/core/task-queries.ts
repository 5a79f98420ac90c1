import { NotFoundError } from './errors.ts';
import { identifier } from './names.ts';
import { publicRecord, type TaskRecord } from './task-record.ts';
import { parseInput } from './validation.ts';

/** Reads of task records, as clients see them. */
export class TaskQueries {
  readonly #getTask: (taskId: string) => Promise<TaskRecord | undefined>;
  constructor(ports: { getTask(taskId: string): Promise<TaskRecord | undefined> }) {
    this.#getTask = (id) => ports.getTask(id);
  }

  /** A task: its status, decision, route, every call and its outcome. */
  async get(taskId: string): Promise<TaskRecord> {
    const id = parseInput(identifier, taskId, 'taskId');
    const record = await this.#getTask(id);
    if (!record) throw new NotFoundError('task', id);
    return publicRecord(record);
  }
}
