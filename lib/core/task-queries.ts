import * as z from 'zod';
import { NotFoundError } from './errors.ts';
import { IN_ORDER, type ListWindow, listWindow, listWindowShape, nextToken } from './list-window.ts';
import { identifier } from './names.ts';
import type { Priority } from './priority.ts';
import { publicRecord, type TaskRecord, type TaskStatus, taskStatus } from './task-record.ts';
import { parseInput } from './validation.ts';

/** `GET /tasks`: which tasks, newest first (see `list-window.ts` for the window). */
export const taskListQuery = z
  .object({ status: taskStatus.optional(), type: identifier.optional(), ...listWindowShape })
  .strict()
  .refine(IN_ORDER.check, IN_ORDER.issue);
export type TaskListQuery = z.output<typeof taskListQuery>;

export interface TaskFilter {
  status?: TaskStatus | undefined;
  type?: string | undefined;
}

/** A task as a list shows it: what it is, where it stands, the service of its latest call. */
export interface TaskSummary {
  taskId: string;
  type: string;
  status: TaskStatus;
  priority: Priority;
  createdAt: string;
  updatedAt: string;
  completedAt?: string | undefined;
  service?: string | undefined;
  error?: { kind: string; message: string } | undefined;
}

/** A page as the store reads it: `next` is the position the next page starts after. */
export interface TaskPage {
  tasks: TaskSummary[];
  next?: string | undefined;
}

export interface TaskQueryPorts {
  getTask(taskId: string): Promise<TaskRecord | undefined>;
  listTasks(filter: TaskFilter, window: ListWindow): Promise<TaskPage>;
  now(): Date;
}

/** Reads of task records, as clients see them. */
export class TaskQueries {
  readonly #ports: TaskQueryPorts;
  constructor(ports: TaskQueryPorts) {
    this.#ports = ports;
  }

  /** A task: its status, decision, route, every call and its outcome. */
  async get(taskId: string): Promise<TaskRecord> {
    const id = parseInput(identifier, taskId, 'taskId');
    const record = await this.#ports.getTask(id);
    if (!record) throw new NotFoundError('task', id);
    return publicRecord(record);
  }

  /** Tasks newest first, of a status and type when given, a page at a time. */
  async list(query: TaskListQuery): Promise<{ tasks: TaskSummary[]; nextToken?: string | undefined }> {
    const page = await this.#ports.listTasks(
      { status: query.status, type: query.type },
      listWindow(query, this.#ports.now()),
    );
    const token = nextToken(page.next);
    return { tasks: page.tasks, ...(token === undefined ? {} : { nextToken: token }) };
  }
}
