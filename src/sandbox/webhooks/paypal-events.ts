import { makeRandom, UPPER_ALNUM } from './random.ts';

// Realistic PayPal webhook event JSON (Orders v2 / Payments v2 resources) for the events
// tether handles. The body `id` (`WH-…`) is the dedupe key.

export const PAYPAL_EVENT_TYPES = [
  'PAYMENT.CAPTURE.COMPLETED',
  'PAYMENT.CAPTURE.DENIED',
  'PAYMENT.CAPTURE.REFUNDED',
  'PAYMENT.CAPTURE.PENDING',
  'CHECKOUT.ORDER.APPROVED',
  'CHECKOUT.ORDER.COMPLETED',
] as const;
export type PaypalEventType = (typeof PAYPAL_EVENT_TYPES)[number];

export interface PaypalEvent {
  id: string;
  event_version: '1.0';
  create_time: string;
  resource_type: string;
  resource_version: '2.0';
  event_type: string;
  summary: string;
  resource: Record<string, unknown>;
  links: { href: string; rel: string; method: string }[];
}

export interface PaypalEventOptions {
  seed?: string | number;
  createTime?: Date;
  /** Decimal string, as PayPal sends amounts. */
  value?: string;
  currency?: string;
  /** Merged over the generated resource. */
  resource?: Record<string, unknown>;
}

const API = 'https://api.sandbox.paypal.com';

export function makePaypalEvent(type: PaypalEventType, options: PaypalEventOptions = {}): PaypalEvent {
  const rnd = makeRandom(options.seed);
  const payId = () => rnd.chars(17, UPPER_ALNUM);
  const id = `WH-${payId()}-${payId()}`;
  const at = options.createTime ?? new Date();
  const time = `${at.toISOString().slice(0, 19)}Z`;
  const amount = { currency_code: options.currency ?? 'USD', value: options.value ?? '10.00' };
  const money = `$ ${Number(amount.value)} ${amount.currency_code}`;
  const orderId = payId();
  const captureId = payId();

  const capture = (status: string, more: Record<string, unknown> = {}) => ({
    id: captureId,
    amount,
    final_capture: true,
    seller_protection: {
      status: 'ELIGIBLE',
      dispute_categories: ['ITEM_NOT_RECEIVED', 'UNAUTHORIZED_TRANSACTION'],
    },
    status,
    supplementary_data: { related_ids: { order_id: orderId } },
    create_time: time,
    update_time: time,
    links: [
      { href: `${API}/v2/payments/captures/${captureId}`, rel: 'self', method: 'GET' },
      { href: `${API}/v2/payments/captures/${captureId}/refund`, rel: 'refund', method: 'POST' },
      { href: `${API}/v2/checkout/orders/${orderId}`, rel: 'up', method: 'GET' },
    ],
    ...more,
  });
  const order = (status: string) => ({
    id: orderId,
    intent: 'CAPTURE',
    status,
    purchase_units: [{ reference_id: 'default', amount, payee: { merchant_id: payId().slice(0, 13) } }],
    payer: {
      name: { given_name: 'Sandbox', surname: 'Buyer' },
      email_address: 'buyer@example.com',
      payer_id: payId().slice(0, 13),
    },
    create_time: time,
    update_time: time,
    links: [{ href: `${API}/v2/checkout/orders/${orderId}`, rel: 'self', method: 'GET' }],
  });

  const byType: Record<PaypalEventType, [string, string, Record<string, unknown>]> = {
    'PAYMENT.CAPTURE.COMPLETED': ['capture', `Payment completed for ${money}`, capture('COMPLETED')],
    'PAYMENT.CAPTURE.DENIED': ['capture', `A ${money} capture payment was denied`, capture('DECLINED')],
    'PAYMENT.CAPTURE.PENDING': [
      'capture',
      `Payment pending for ${money}`,
      capture('PENDING', { status_details: { reason: 'PENDING_REVIEW' } }),
    ],
    'PAYMENT.CAPTURE.REFUNDED': [
      'refund',
      `A ${money} capture payment was refunded`,
      {
        id: payId(),
        amount,
        status: 'COMPLETED',
        create_time: time,
        update_time: time,
        links: [
          { href: `${API}/v2/payments/refunds/${payId()}`, rel: 'self', method: 'GET' },
          { href: `${API}/v2/payments/captures/${captureId}`, rel: 'up', method: 'GET' },
        ],
      },
    ],
    'CHECKOUT.ORDER.APPROVED': ['checkout-order', 'An order has been approved by buyer', order('APPROVED')],
    'CHECKOUT.ORDER.COMPLETED': ['checkout-order', 'Checkout Order Completed', order('COMPLETED')],
  };
  const [resourceType, summary, resource] = byType[type];
  return {
    id,
    event_version: '1.0',
    create_time: time,
    resource_type: resourceType,
    resource_version: '2.0',
    event_type: type,
    summary,
    resource: { ...resource, ...options.resource },
    links: [
      { href: `${API}/v1/notifications/webhooks-events/${id}`, rel: 'self', method: 'GET' },
      { href: `${API}/v1/notifications/webhooks-events/${id}/resend`, rel: 'resend', method: 'POST' },
    ],
  };
}
