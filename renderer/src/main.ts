// Renderer entry: Vue app + Pinia; the API transport is chosen in ./api.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import './styles.css'

createApp(App).use(createPinia()).mount('#app')
